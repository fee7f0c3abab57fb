// `griddesk controller`: one per cluster, leader-elected. Wires the informers (with their
// indexes), the pool, session and host reconcilers, griddesk's metrics and the event recorder.
import type { KubeConfig } from "@kubernetes/client-node";
import type {
  Desktop,
  DesktopPool,
  DesktopProfile,
  DesktopSession,
  HostNode,
} from "../api/types.generated.js";
import { FieldManagers } from "../api/constants.js";
import type { Clock, Informer, KubeObject, Logger } from "../runtime/index.js";
import { HealthServer, keyOf, Manager, systemClock } from "../runtime/index.js";
import type { ControllerContext, ControllerSettings, LeaseSpec } from "./context.js";
import { addHostControllers } from "./host/wiring.js";
import { PoolReconciler } from "./pool/reconciler.js";
import { ProfileReconciler } from "./profile/reconciler.js";
import type { SecretObject } from "../profiles/store-config.js";
import { SessionReconciler } from "./session/reconciler.js";
import { EventRecorder } from "./shared/events.js";
import { Expectations } from "./shared/expectations.js";
import { desktopIndexers, poolKey, sessionIndexers } from "./shared/indexes.js";
import { GriddeskMetrics } from "./shared/metrics.js";
import { ensureNamespace } from "./shared/namespace.js";
import { Resources } from "./shared/resources.js";
import { allWaitingSessionKeys, hostChangeMatters, waitingSessionKeys } from "./watches.js";
import { ObservedRenewals } from "./host/renewals.js";

export interface ControllerOptions extends Partial<ControllerSettings> {
  kubeConfig: KubeConfig;
  logger: Logger;
  clock?: Clock;
  /** host:port for /healthz, /readyz (and /metrics unless `metrics` is set); port 0 picks a free one. */
  health?: { host?: string; port: number };
  /** A separate /metrics server (as the Helm chart runs it: probes on one port, metrics on another). */
  metrics?: { host?: string; port: number };
  leaderElection?: boolean;
  /** Identity in the leader-election Lease (default: hostname_pid). */
  identity?: string;
  workers?: { pools?: number; sessions?: number; hosts?: number };
  /** Mirror the cordon of the Kubernetes Node a HostNode names (watches all Nodes; default true). */
  nodeMirror?: boolean;
}

export const DEFAULT_SETTINGS: ControllerSettings = {
  systemNamespace: "griddesk-system",
  hostGracePeriodMs: 40_000,
  maxCreatesPerPass: 200,
};

export async function startController(opts: ControllerOptions): Promise<Manager> {
  const clock = opts.clock ?? systemClock;
  const settings: ControllerSettings = {
    systemNamespace: opts.systemNamespace ?? DEFAULT_SETTINGS.systemNamespace,
    hostGracePeriodMs: opts.hostGracePeriodMs ?? DEFAULT_SETTINGS.hostGracePeriodMs,
    maxCreatesPerPass: opts.maxCreatesPerPass ?? DEFAULT_SETTINGS.maxCreatesPerPass,
  };
  const manager = new Manager({
    kubeConfig: opts.kubeConfig,
    logger: opts.logger,
    clock,
    health: opts.health,
    fieldManager: FieldManagers.Controller,
    leaderElection: opts.leaderElection
      ? { namespace: settings.systemNamespace, name: "griddesk-controller", identity: opts.identity }
      : undefined,
  });
  await ensureNamespace(manager.rest, settings.systemNamespace, opts.logger);

  const informers = {
    pools: manager.informer<DesktopPool>({ resource: Resources.DesktopPool }),
    desktops: manager.informer<Desktop>({ resource: Resources.Desktop, indexers: desktopIndexers }),
    sessions: manager.informer<DesktopSession>({
      resource: Resources.DesktopSession,
      indexers: sessionIndexers,
    }),
    hosts: manager.informer<HostNode>({ resource: Resources.HostNode }),
    profiles: manager.informer<DesktopProfile>({ resource: Resources.DesktopProfile }),
    leases: manager.informer<KubeObject & { spec?: LeaseSpec }>({
      resource: Resources.Lease,
      namespace: settings.systemNamespace,
    }),
  };
  const expectations = new Expectations(clock);
  // Fed first, before the host controller's filtered watch: every renewal is seen (renewals.ts).
  const renewals = new ObservedRenewals(clock);
  informers.leases.addHandler(renewals.handler());
  manager.whenLeading(() => renewals.freshGrace());
  const ctx: ControllerContext = {
    manager,
    log: opts.logger,
    clock,
    events: new EventRecorder(manager.rest, "griddesk-controller", clock, opts.logger),
    expectations,
    metrics: new GriddeskMetrics(manager.metrics.registry, informers),
    settings,
    renewals,
    informers,
    clients: {
      pools: manager.client(Resources.DesktopPool),
      desktops: manager.client(Resources.Desktop),
      sessions: manager.client(Resources.DesktopSession),
      hosts: manager.client(Resources.HostNode),
      profiles: manager.client(Resources.DesktopProfile),
      secrets: manager.client<SecretObject>(Resources.Secret),
    },
  };

  // Expectations end when the cache shows the change.
  informers.desktops.addHandler({
    add: (d) => expectations.observed(keyOf(d.metadata), "create"),
    update: (_o, d) => {
      if (d.metadata.deletionTimestamp) expectations.observed(keyOf(d.metadata), "delete");
    },
    delete: (d) => expectations.observed(keyOf(d.metadata), "delete"),
  });

  const w = opts.workers ?? {};
  const pools = manager.addController({
    name: "desktoppool",
    reconciler: new PoolReconciler(ctx),
    workers: w.pools ?? 2,
  });
  pools.watch(informers.pools);
  pools.watch(informers.desktops, (d) => [{ namespace: d.metadata.namespace, name: d.spec.poolRef }]);
  pools.watch(informers.sessions, (s) => [{ namespace: s.metadata.namespace, name: s.spec.poolRef }]);
  onHostChange(informers.hosts, () => informers.pools.list().forEach((p) => pools.enqueue(p.metadata)));

  const sessions = manager.addController({
    name: "desktopsession",
    reconciler: new SessionReconciler(ctx),
    // A session reconcile waits on the API server (a bind is up to three sequential writes),
    // not on this process: measured in bench:steady, 8 workers queued logons for seconds at
    // 10 logons/s on a busy machine, 32 kept the queue empty (see BENCHMARKS.md).
    workers: w.sessions ?? 32,
  });
  sessions.watch(informers.sessions);
  sessions.watch(informers.desktops, (d) =>
    d.spec.sessionRef
      ? [{ namespace: d.metadata.namespace, name: d.spec.sessionRef.name }]
      : d.status?.phase === "Available"
        ? waitingSessionKeys(informers, poolKey(d.metadata.namespace, d.spec.poolRef))
        : [],
  );
  sessions.watch(informers.pools, (p) => {
    const key = poolKey(p.metadata.namespace, p.metadata.name);
    return informers.pools.get(key)
      ? waitingSessionKeys(informers, key)
      : allWaitingSessionKeys(informers, key); // deleted: every waiter ends
  });

  // Users' profiles: erase on deletion, restore on request.
  const profiles = manager.addController({
    name: "desktopprofile",
    reconciler: new ProfileReconciler(ctx),
    workers: 2,
  });
  profiles.watch(informers.profiles);

  // Host health, allocation, cordon and drain (with its budget watches), and the Node cordon mirror.
  addHostControllers(manager, ctx, { workers: w.hosts ?? 4, nodeMirror: opts.nodeMirror ?? true });

  if (opts.metrics) {
    const server = new HealthServer({
      ...opts.metrics,
      registry: manager.metrics.registry,
      logger: opts.logger,
    });
    const port = await server.listen();
    opts.logger.info({ metricsPort: port }, "serving /metrics");
  }
  await manager.start();
  opts.logger.info({ settings }, "griddesk controller started");
  return manager;
}

/** Host events that can change a pool's placement (not the allocation updates pools cause themselves). */
function onHostChange(hosts: Informer<HostNode>, fn: () => void): void {
  hosts.addHandler({ add: fn, delete: fn, update: (o, n) => void (hostChangeMatters(o, n) && fn()) });
}
