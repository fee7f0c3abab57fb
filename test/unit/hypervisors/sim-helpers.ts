// Shared set-up for the simulated adapter's own tests.
import type { DesktopIdentity, ImageRef, VmSpec } from "../../../src/hypervisors/adapter.js";
import { parseSimulatedConfig } from "../../../src/hypervisors/simulated/config.js";
import { SimulatedAdapter, SimulatedHostState } from "../../../src/hypervisors/simulated/index.js";
import { ManualClock } from "./manual-clock.js";
import { DEFAULT_FETCH_LIMITS, type SourcePolicy } from "../../../src/volumes/index.js";
import type { Endpoint } from "../../../src/hypervisors/adapter.js";

export const image: ImageRef = {
  source: "file:///srv/images/win11.qcow2",
  sha256: "cd".repeat(32),
  format: "qcow2",
};

export function vmSpec(n: number, namespace = "team-a"): VmSpec {
  const id: DesktopIdentity = { namespace, name: `desk-${n}`, uid: `uid-${namespace}-${n}` };
  return { id, cpuMilli: 2000, memoryBytes: 4 * 1024 ** 3, diskBytes: 40 * 1024 ** 3, image };
}

export interface SimHost {
  adapter: SimulatedAdapter;
  clock: ManualClock;
  state: SimulatedHostState;
}

export function simHost(
  settings: Record<string, unknown> = {},
  { hostName = "sim-1", clock = new ManualClock(), state = new SimulatedHostState() } = {},
): SimHost {
  const config = parseSimulatedConfig(hostName, settings);
  return {
    adapter: new SimulatedAdapter({ hostName, config, state, clock, sources: testSources }),
    clock,
    state,
  };
}

/** The source policy unit tests' hosts run under: the images the fixtures name. */
export const testSources: SourcePolicy = {
  localRoots: ["/srv/images"],
  urlPrefixes: ["https://images.example.com/"],
  limits: DEFAULT_FETCH_LIMITS,
};

/** The port of a VM's host-and-port endpoint (undefined for none, or a KubeVirt console). */
export function portOf(vm: { endpoint?: Endpoint } | null | undefined): number | undefined {
  return vm?.endpoint && "port" in vm.endpoint ? vm.endpoint.port : undefined;
}

/** The host of a VM's host-and-port endpoint. */
export function hostOf(vm: { endpoint?: Endpoint } | null | undefined): string | undefined {
  return vm?.endpoint && "host" in vm.endpoint ? vm.endpoint.host : undefined;
}
