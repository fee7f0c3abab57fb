import { describe, expect, it } from "@jest/globals";
import { AdapterError } from "../../../src/hypervisors/errors.js";
import { AdapterRegistry } from "../../../src/hypervisors/registry.js";
import type { SimulatedHostState } from "../../../src/hypervisors/simulated/index.js";
import { simulatedAdapterFactory } from "../../../src/hypervisors/simulated/index.js";
import { ManualClock } from "./manual-clock.js";
import { testSources } from "./sim-helpers.js";

const host = { hostName: "rack3-node07", settings: {} };

function registry(): AdapterRegistry {
  return new AdapterRegistry().register(
    "simulated",
    simulatedAdapterFactory({ clock: new ManualClock(), sources: testSources }),
  );
}

describe("AdapterRegistry", () => {
  it("creates the adapter registered for a type", async () => {
    const adapter = registry().create("simulated", { hostName: "h1", settings: { profile: "small" } });
    expect(adapter.type).toBe("simulated");
    expect(adapter.hostName).toBe("h1");
    expect((await adapter.probe()).cores).toBe(8);
  });

  it("refuses an unknown type, naming it, the host and every known type", () => {
    const err = (() => {
      try {
        registry().create("vmware", host);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(AdapterError);
    expect(err).toMatchObject({ reason: "UnknownHypervisorType", retryable: false });
    expect((err as Error).message).toBe(
      'unknown hypervisor type "vmware" of host "rack3-node07"; known types: kubevirt, libvirt, simulated (available in this agent: simulated)',
    );
  });

  it("says when a known type is not available in this agent", () => {
    expect(() => registry().create("kubevirt", host)).toThrow(
      'hypervisor type "kubevirt" of host "rack3-node07" is not available in this agent (available: simulated)',
    );
    expect(() => new AdapterRegistry().create("libvirt", host)).toThrow("(available: none)");
  });

  it("is case-sensitive: the HostNode must spell the type as registered", () => {
    expect(() => registry().create("Simulated", host)).toThrow(/unknown hypervisor type "Simulated"/);
  });

  it("refuses duplicate and unknown registrations", () => {
    expect(() => registry().register("simulated", simulatedAdapterFactory({ sources: testSources }))).toThrow(
      /already registered/,
    );
    const factory = simulatedAdapterFactory({ sources: testSources });
    // @ts-expect-error: the type system already refuses this; the runtime check guards plain JS callers.
    expect(() => new AdapterRegistry().register("xen", factory)).toThrow(/known types/);
  });

  it("lists its types sorted and answers has()", () => {
    const r = new AdapterRegistry()
      .register("simulated", simulatedAdapterFactory({ sources: testSources }))
      .register("libvirt", () => {
        throw new Error("not built");
      });
    expect(r.types()).toEqual(["libvirt", "simulated"]);
    expect(r.has("libvirt")).toBe(true);
    expect(r.has("kubevirt")).toBe(false);
  });

  it("passes a factory's InvalidHostConfig through", () => {
    expect(() => registry().create("simulated", { hostName: "h", settings: { profile: "huge" } })).toThrow(
      expect.objectContaining({ reason: "InvalidHostConfig" }),
    );
  });

  it("gives each host one simulated state, kept across adapters made by the factory", async () => {
    const states = new Map<string, SimulatedHostState>();
    const r = new AdapterRegistry().register(
      "simulated",
      simulatedAdapterFactory({ clock: new ManualClock(), states, sources: testSources }),
    );
    r.create("simulated", { hostName: "a", settings: {} });
    r.create("simulated", { hostName: "b", settings: {} });
    const again = r.create("simulated", { hostName: "a", settings: {} });
    expect([...states.keys()]).toEqual(["a", "b"]);
    states.get("a")?.addForeignVm("not-ours");
    expect(await again.list()).toEqual([]);
  });
});
