// The simulated agent as a product feature: one process serving many simulated hosts (like
// kwok), with sizes cycled through the profiles, seeded behaviour, and optionally a state
// directory so that a killed and restarted agent finds the VMs it made.
import { AdapterRegistry, systemClock, type Clock } from "../../hypervisors/index.js";
import {
  SIMULATED_PROFILES,
  simulatedAdapterFactory,
  type SimulatedProfile,
} from "../../hypervisors/simulated/index.js";
import type { Logger } from "../../runtime/index.js";
import type { SourcePolicy } from "../../volumes/index.js";
import type { AgentHost } from "../options.js";
import { PersistingAdapter } from "./persisting-adapter.js";
import { SimulatedStateStore } from "./state-store.js";

export const PROFILE_CYCLE = Object.keys(SIMULATED_PROFILES) as SimulatedProfile[];

export interface SimulatedAgentOptions {
  /** Host names; or `count` hosts named `<prefix><n>`. */
  readonly hosts?: readonly string[];
  readonly count?: number;
  readonly prefix?: string;
  /** One profile for every host; default: small, medium, large in turn. */
  readonly profile?: SimulatedProfile;
  /** Base seed; host i gets seed + i. Default: each host's seed derives from its name. */
  readonly seed?: number;
  readonly provisionMs?: number;
  readonly imagePullMs?: number;
  readonly failureRate?: number;
  readonly stateDir?: string;
  readonly clock?: Clock;
  /** The admin's source policy (the agent's flags). */
  readonly sources: SourcePolicy;
  readonly log: Logger;
}

export interface SimulatedAgentSetup {
  readonly registry: AdapterRegistry;
  readonly hosts: AgentHost[];
  /** Present with a state directory; the adapters save through it. */
  readonly store?: SimulatedStateStore;
}

/** `sim-01` … `sim-12`: numbered from 1, zero-padded so names sort in order. */
export function simulatedHostNames(count: number, prefix = "sim-"): string[] {
  const width = String(count).length;
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i + 1).padStart(width, "0")}`);
}

const latency = (mean: number): { mean: number; jitter: number } => ({ mean, jitter: Math.round(mean / 4) });

/** The hosts, with what goes into each HostNode (profile) and what only the adapter sees. */
export function simulatedHosts(
  opts: Omit<SimulatedAgentOptions, "log" | "clock" | "stateDir" | "sources">,
): AgentHost[] {
  const names = opts.hosts?.length ? [...opts.hosts] : simulatedHostNames(opts.count ?? 0, opts.prefix);
  if (names.length === 0) throw new Error("a simulated agent needs --hosts or --simulated-hosts");
  return names.map((name, i) => {
    const profile = opts.profile ?? PROFILE_CYCLE[i % PROFILE_CYCLE.length];
    const overrides: Record<string, unknown> = {};
    if (opts.seed !== undefined) overrides.seed = (opts.seed + i) >>> 0;
    if (opts.provisionMs !== undefined) overrides.provisioningLatency = latency(opts.provisionMs);
    if (opts.imagePullMs !== undefined) overrides.imagePullLatency = latency(opts.imagePullMs);
    if (opts.failureRate !== undefined) overrides.failureRate = opts.failureRate;
    return { name, block: { profile }, overrides };
  });
}

/** The registry (with the simulated adapter) and hosts; loads the state directory first. */
export async function simulatedAgentSetup(opts: SimulatedAgentOptions): Promise<SimulatedAgentSetup> {
  const clock = opts.clock ?? systemClock;
  const hosts = simulatedHosts(opts);
  const registry = new AdapterRegistry();
  if (opts.stateDir === undefined) {
    registry.register("simulated", simulatedAdapterFactory({ clock, sources: opts.sources }));
    return { registry, hosts };
  }
  const store = new SimulatedStateStore(opts.stateDir, clock, opts.log);
  const states = await store.load(hosts.map((h) => h.name));
  const factory = simulatedAdapterFactory({ clock, states, sources: opts.sources });
  registry.register("simulated", (host) => new PersistingAdapter(factory(host), store));
  return { registry, hosts, store };
}
