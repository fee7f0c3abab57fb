// The shared adapter contract, run against the simulated adapter on a manual clock.
import {
  simulatedAdapterFactory,
  type SimulatedHostState,
} from "../../../src/hypervisors/simulated/index.js";
import type { HypervisorAdapter } from "../../../src/hypervisors/adapter.js";
import { describeAdapterContract } from "./contract.js";
import { ManualClock } from "./manual-clock.js";
import { testSources } from "./sim-helpers.js";

describeAdapterContract("simulated", async () => {
  const clock = new ManualClock();
  const states = new Map<string, SimulatedHostState>();
  const factory = simulatedAdapterFactory({ clock, states, sources: testSources });
  const host = {
    hostName: "sim-contract",
    settings: {
      seed: 42,
      provisioningLatency: { mean: 2000, jitter: 500 },
      imagePullLatency: { mean: 5000, jitter: 1000 },
    },
  };
  let adapter: HypervisorAdapter = factory(host);
  const state = states.get(host.hostName) as SimulatedHostState;
  return {
    get adapter() {
      return adapter;
    },
    image: { source: "file:///srv/images/contract.qcow2", sha256: "ab".repeat(32), format: "qcow2" },
    tick: () => clock.advance(500),
    scratchDisk: async () => "/var/lib/griddesk/profiles/contract.qcow2", // never opened by a simulated host
    overlayOf: async (disk) => `${disk}.next.qcow2`,
    addForeignVm: async (name) => state.addForeignVm(name),
    pullCount: () => state.pullsStarted,
    restart: async () => {
      await adapter.close();
      adapter = factory(host);
      return adapter;
    },
    close: () => adapter.close(),
  };
});
