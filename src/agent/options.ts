// What an agent is told at start: which hosts it serves with which adapter, and its timings.
// Everything is passed in (constructor injection); nothing is read from the environment here.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { AdapterRegistry, HypervisorType } from "../hypervisors/index.js";
import type { Clock, RuntimeMetrics } from "../runtime/index.js";
import { DEFAULT_SYSTEM_NAMESPACE } from "../controllers/shared/resources.js";

/** One host the agent serves. */
export interface AgentHost {
  /** The HostNode's name. */
  readonly name: string;
  /** Written as `spec.hypervisor.<type>` when the agent creates the HostNode. */
  readonly block?: Readonly<Record<string, unknown>>;
  /** Adapter settings that never go into the HostNode (simulated latency, seed, ...); win over the spec. */
  readonly overrides?: Readonly<Record<string, unknown>>;
  /** The Kubernetes Node the host is (`spec.nodeName`: the controller mirrors its cordon). */
  readonly nodeName?: string;
  /** Labels of this host alone (e.g. its Node's zone), beside the agent's. */
  readonly labels?: Readonly<Record<string, string>>;
}

export interface BindAddress {
  readonly host: string;
  readonly port: number;
}

export interface AgentOptions {
  readonly kubeConfig: KubeConfig;
  /** The agent's name: HostNode/Desktop label `griddesk.io/agent`, Lease holder, status.agent. */
  readonly name: string;
  /** The one adapter type this agent serves its hosts with. */
  readonly adapter: HypervisorType;
  /** Must be able to create `adapter`. */
  readonly registry: AdapterRegistry;
  readonly hosts: readonly AgentHost[];
  /** Extra labels put on every HostNode this agent serves. */
  readonly hostLabels?: Readonly<Record<string, string>>;
  readonly systemNamespace?: string;
  /** Where desktops' console passwords are kept, for the broker (default: systemNamespace). */
  readonly consoleSecretNamespace?: string;
  readonly leaseDurationSeconds?: number;
  readonly leaseRenewIntervalMs?: number;
  readonly orphanCollectionIntervalMs?: number;
  /** How often host facts and images are re-read (image pulls also trigger a report). */
  readonly hostStatusIntervalMs?: number;
  /** Safety-net requeue for a provisioning VM; adapter hints usually come sooner. */
  readonly provisioningRecheckMs?: number;
  /** How often a desktop with a VM is looked at again, in case a hint about it was lost. */
  readonly desktopResyncMs?: number;
  readonly workers?: number;
  /** Probes (and metrics, unless `metrics` is set); omit for no server. */
  readonly health?: BindAddress;
  /** A separate metrics server. */
  readonly metrics?: BindAddress;
  readonly logger?: Logger;
  readonly runtimeMetrics?: RuntimeMetrics;
  readonly clock?: Clock;
  readonly shutdownTimeoutMs?: number;
  /** Hosts that appear while the agent runs (the KubeVirt agent: Nodes as they are added). */
  readonly hostSource?: HostSource;
}

/** Finds hosts after the start; `add` is called for each (again for known ones: a no-op). */
export interface HostSource {
  start(add: (host: AgentHost) => void): Promise<void>;
  stop(): Promise<void>;
}

export type ResolvedAgentOptions = Required<
  Omit<AgentOptions, "health" | "metrics" | "logger" | "runtimeMetrics" | "clock" | "hostSource">
> &
  Pick<AgentOptions, "health" | "metrics" | "logger" | "runtimeMetrics" | "clock" | "hostSource">;

/** Defaults like kubelet's node lease: 40 s lease, renewed every 10 s. */
export function resolveAgentOptions(opts: AgentOptions): ResolvedAgentOptions {
  const names = new Set<string>();
  for (const host of opts.hosts) {
    if (names.has(host.name)) throw new Error(`host ${host.name} is listed twice`);
    names.add(host.name);
  }
  if (!opts.registry.has(opts.adapter)) {
    throw new Error(
      `this agent has no ${opts.adapter} adapter (available: ${opts.registry.types().join(", ")})`,
    );
  }
  return {
    hostLabels: {},
    systemNamespace: DEFAULT_SYSTEM_NAMESPACE,
    leaseDurationSeconds: 40,
    leaseRenewIntervalMs: 10_000,
    orphanCollectionIntervalMs: 60_000,
    hostStatusIntervalMs: 60_000,
    provisioningRecheckMs: 5_000,
    desktopResyncMs: 60_000,
    workers: 4,
    shutdownTimeoutMs: 30_000,
    ...definedOnly(opts),
  } as ResolvedAgentOptions;
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
