// Simulated host state survives a JSON round trip: the VMs, their endpoints and images, and the
// display allocator (a VM made after the restart never gets a port already in use).
import { describe, expect, it } from "@jest/globals";
import { fromStateFile, toStateFile } from "../../../src/agent/simulated/state-file.js";
import type { VmSpec } from "../../../src/hypervisors/index.js";
import {
  parseSimulatedConfig,
  SimulatedAdapter,
  SimulatedHostState,
} from "../../../src/hypervisors/simulated/index.js";
import { SHA, StepClock } from "./fixtures.js";
import { testSources, portOf } from "../hypervisors/sim-helpers.js";

const config = parseSimulatedConfig("sim-a", {
  provisioningLatency: { mean: 1000, jitter: 0 },
  imagePullLatency: { mean: 1000, jitter: 0 },
});

function spec(n: number): VmSpec {
  return {
    id: { namespace: "team-a", name: `desk-${n}`, uid: `uid-${n}` },
    cpuMilli: 2000,
    memoryBytes: 4 * 1024 ** 3,
    diskBytes: 40 * 1024 ** 3,
    image: { source: "file:///srv/images/img.qcow2", sha256: SHA, format: "qcow2" },
  };
}

const adapterOver = (state: SimulatedHostState, clock: StepClock): SimulatedAdapter =>
  new SimulatedAdapter({ hostName: "sim-a", config, state, clock, sources: testSources });

describe("simulated state file", () => {
  it("round-trips VMs, images and free displays through JSON", async () => {
    const clock = new StepClock();
    const state = new SimulatedHostState();
    const before = adapterOver(state, clock);
    for (const n of [1, 2, 3]) await before.create(spec(n));
    await before.destroy(spec(2).id); // frees display 1
    state.addForeignVm("someone-elses-vm");
    clock.advance(5000);
    const listed = await before.list();
    await before.close();

    const restored = fromStateFile(JSON.parse(JSON.stringify(toStateFile("sim-a", state))));
    const after = adapterOver(restored, clock);
    expect(await after.list()).toEqual(listed);
    expect(listed.map((vm) => vm.state)).toEqual(["running", "running"]);
    expect(restored.vms.has("someone-elses-vm")).toBe(true); // kept, still not listed
    expect((await after.listImages()).map((i) => i.state)).toEqual(["ready"]);
    expect(restored.pullsStarted).toBe(1);

    await after.create(spec(4));
    await after.create(spec(5));
    clock.advance(5000);
    const ports = (await after.list()).map((vm) => portOf(vm));
    expect(new Set(ports).size).toBe(ports.length);
  });

  it("a VM provisioning when saved is running after the restart, without a new create", async () => {
    const clock = new StepClock();
    const state = new SimulatedHostState();
    const created = await adapterOver(state, clock).create(spec(1));
    expect(created.state).toBe("provisioning");
    const restored = fromStateFile(JSON.parse(JSON.stringify(toStateFile("sim-a", state))));
    clock.advance(5000);
    const vm = await adapterOver(restored, clock).get(spec(1).id);
    expect(vm).toMatchObject({ state: "running", createdAt: created.createdAt });
  });

  it("refuses what is not a state file", () => {
    expect(() => fromStateFile({ version: 2 })).toThrow(/version 2/);
    expect(() => fromStateFile({ version: 1 })).toThrow(/vms and images/);
    expect(() => fromStateFile({ version: 1, vms: [{ domain: "x" }], images: [] })).toThrow(/malformed VM/);
  });
});
