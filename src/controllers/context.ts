// Everything the controller-side reconcilers share: the informer caches (read-only), typed
// clients, the event recorder, expectations and the clock. Built once in controller-main.ts.
import type { Logger } from "pino";
import type {
  Desktop,
  DesktopPool,
  DesktopProfile,
  DesktopSession,
  HostNode,
} from "../api/types.generated.js";
import type { BackoffOptions, Clock, Informer, KubeObject, Manager, ObjectClient } from "../runtime/index.js";
import type { SecretObject } from "../profiles/store-config.js";
import type { EventSink } from "./shared/events.js";
import type { Expectations } from "./shared/expectations.js";
import type { GriddeskMetrics } from "./shared/metrics.js";
import type { ObservedRenewals } from "./host/renewals.js";

export interface ControllerSettings {
  /** Namespace of the heartbeat Leases and the leader-election Lease. */
  systemNamespace: string;
  /** A host whose heartbeat is older than this goes NotReady (Kubernetes' node-monitor-grace-period). */
  hostGracePeriodMs: number;
  /** Most desktops one pool creates in one pass (a bound on any single burst of writes). */
  maxCreatesPerPass: number;
  /** How long a host gets no new desktops of a pool after they failed there (default 5 s doubling to 5 min). */
  failureBackoff?: BackoffOptions;
}

export interface ControllerContext {
  manager: Manager;
  log: Logger;
  clock: Clock;
  events: EventSink;
  expectations: Expectations;
  metrics: GriddeskMetrics;
  settings: ControllerSettings;
  /** When each heartbeat Lease was seen renewed, on this process's clock (host health). */
  renewals: ObservedRenewals;
  informers: {
    pools: Informer<DesktopPool>;
    desktops: Informer<Desktop>;
    sessions: Informer<DesktopSession>;
    hosts: Informer<HostNode>;
    profiles: Informer<DesktopProfile>;
    leases: Informer<KubeObject & { spec?: LeaseSpec }>;
  };
  clients: {
    pools: ObjectClient<DesktopPool>;
    desktops: ObjectClient<Desktop>;
    sessions: ObjectClient<DesktopSession>;
    hosts: ObjectClient<HostNode>;
    /** A write lock, a restore and an erase are decided on the newest copy: read live. */
    profiles: ObjectClient<DesktopProfile>;
    /** The profile stores' credentials (restore, erase), by name. */
    secrets: ObjectClient<SecretObject>;
  };
}

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  renewTime?: string;
}
