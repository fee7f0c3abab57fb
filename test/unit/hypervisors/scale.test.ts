// One agent process serving hundreds of simulated hosts with thousands of VMs, on one clock.
// (How long this takes is bench:scale's figure, on a real control plane; no wall-clock bound here.)
import { describe, expect, it } from "@jest/globals";
import type { HypervisorAdapter } from "../../../src/hypervisors/adapter.js";
import { AdapterRegistry } from "../../../src/hypervisors/registry.js";
import { simulatedAdapterFactory } from "../../../src/hypervisors/simulated/index.js";
import { ManualClock } from "./manual-clock.js";
import { vmSpec, testSources, portOf, hostOf } from "./sim-helpers.js";

describe("simulated adapter at scale", () => {
  it("serves 300 hosts with 6,000 VMs", async () => {
    const clock = new ManualClock();
    const registry = new AdapterRegistry().register(
      "simulated",
      simulatedAdapterFactory({ clock, sources: testSources }),
    );
    const hosts: HypervisorAdapter[] = [];
    for (let h = 0; h < 300; h++) {
      const profile = ["small", "medium", "large"][h % 3];
      hosts.push(
        registry.create("simulated", { hostName: `sim-${h}`, settings: { profile, failureRate: 0.01 } }),
      );
    }
    let hints = 0;
    for (const adapter of hosts) adapter.onChange(() => hints++);
    for (const [h, adapter] of hosts.entries()) {
      for (let i = 0; i < 20; i++) await adapter.create(vmSpec(i, `ns-${h % 7}`));
    }
    expect(clock.pending).toBe(300 * 21); // one per pending VM, one per image pull
    await clock.advance(10 * 60_000);
    expect(clock.pending).toBe(0);
    const all = (await Promise.all(hosts.map((a) => a.list()))).flat();
    expect(all).toHaveLength(6000);
    expect(all.filter((vm) => vm.state === "provisioning")).toHaveLength(0);
    expect(all.filter((vm) => vm.state === "failed").length).toBeLessThan(150);
    expect(hints).toBe(6000 + 300);
    const running = all.filter((vm) => vm.state === "running");
    expect(new Set(running.map((vm) => `${hostOf(vm)}:${portOf(vm)}`)).size).toBe(running.length);
  });
});
