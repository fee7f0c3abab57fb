// The simulated agent's hosts: names, profiles cycled, per-host seeds and latencies; and what
// registration writes into a new HostNode.
import { describe, expect, it } from "@jest/globals";
import { hostNodeManifest, missingLabels } from "../../../src/agent/registration.js";
import { simulatedHostNames, simulatedHosts } from "../../../src/agent/simulated/setup.js";
import { labelList, nameList } from "../../../src/cli/agent.js";

describe("simulated hosts", () => {
  it("names generated hosts so they sort in order", () => {
    expect(simulatedHostNames(3)).toEqual(["sim-1", "sim-2", "sim-3"]);
    expect(simulatedHostNames(100, "rack-").slice(0, 2)).toEqual(["rack-001", "rack-002"]);
  });

  it("cycles profiles unless one is given, and passes simulator settings to the adapter only", () => {
    const hosts = simulatedHosts({ count: 4, seed: 7, provisionMs: 200, failureRate: 0.1 });
    expect(hosts.map((h) => h.block?.profile)).toEqual(["small", "medium", "large", "small"]);
    expect(hosts[1]?.overrides).toEqual({
      seed: 8,
      provisioningLatency: { mean: 200, jitter: 50 },
      failureRate: 0.1,
    });
    expect(simulatedHosts({ hosts: ["x", "y"], profile: "large" }).map((h) => h.block)).toEqual([
      { profile: "large" },
      { profile: "large" },
    ]);
    expect(() => simulatedHosts({})).toThrow(/--hosts/);
  });
});

describe("registration", () => {
  const ctx = { agent: "agent-1", type: "simulated" as const, labels: { zone: "sim" } };

  it("creates a HostNode with the adapter block and the agent's labels", () => {
    expect(hostNodeManifest({ name: "sim-1", block: { profile: "small" } }, ctx)).toEqual({
      apiVersion: "griddesk.io/v1alpha1",
      kind: "HostNode",
      metadata: {
        name: "sim-1",
        labels: { zone: "sim", "griddesk.io/agent": "agent-1", "griddesk.io/hypervisor": "simulated" },
      },
      spec: { hypervisor: { type: "simulated", simulated: { profile: "small" } } },
    });
  });

  it("adopts an existing HostNode by merging in only the labels it lacks", () => {
    const wanted = { a: "1", b: "2" };
    expect(missingLabels({ a: "1", other: "x" }, wanted)).toEqual({ b: "2" });
    expect(missingLabels({ a: "1", b: "2" }, wanted)).toBeUndefined();
  });
});

describe("agent flags", () => {
  it("reads host lists and labels", () => {
    expect(nameList("a, b,,c", ["z"])).toEqual(["z", "a", "b", "c"]);
    expect(labelList("zone=a,site=berlin")).toEqual({ zone: "a", site: "berlin" });
    expect(() => labelList("zone")).toThrow(/key=value/);
  });
});
