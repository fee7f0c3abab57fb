// The simulated adapter's registry entry. The agent keeps one state per host name in `states`,
// so that a new adapter for a host (after a restart, simulated or real) finds the old VMs.
import type { AdapterFactory } from "../registry.js";
import { systemClock, type Clock } from "../clock.js";
import { SimulatedAdapter } from "./adapter.js";
import { parseSimulatedConfig } from "./config.js";
import { SimulatedHostState } from "./state.js";
import type { SourcePolicy } from "../../volumes/index.js";

export { SimulatedAdapter, type SimulatedAdapterOptions } from "./adapter.js";
export {
  parseSimulatedConfig,
  SIMULATED_PROFILES,
  type SimulatedHostConfig,
  type SimulatedProfile,
} from "./config.js";
export { SimulatedHostState, simulatedDomainName, type SimulatedVm, type SimulatedImage } from "./state.js";
export { SIMULATED_ADAPTER_VERSION } from "./status.js";

export interface SimulatedFactoryOptions {
  /** Defaults to the system clock. */
  readonly clock?: Clock;
  /** Host name → state; defaults to a fresh map owned by the factory. */
  readonly states?: Map<string, SimulatedHostState>;
  /** The admin's source policy, applied as on a real host (nothing is opened here). */
  readonly sources: SourcePolicy;
}

export function simulatedAdapterFactory(options: SimulatedFactoryOptions): AdapterFactory {
  const clock = options.clock ?? systemClock;
  const states = options.states ?? new Map<string, SimulatedHostState>();
  return ({ hostName, settings }) => {
    const config = parseSimulatedConfig(hostName, settings);
    let state = states.get(hostName);
    if (state === undefined) {
      state = new SimulatedHostState();
      states.set(hostName, state);
    }
    return new SimulatedAdapter({ hostName, config, state, clock, sources: options.sources });
  };
}
