import { describe, expect, it } from "@jest/globals";
import { parseSimulatedConfig, SIMULATED_PROFILES } from "../../../src/hypervisors/simulated/config.js";
import { simHost } from "./sim-helpers.js";

const GiB = 1024 ** 3;

describe("simulated host settings", () => {
  it("defaults to the medium profile and a seed derived from the host name", () => {
    const a = parseSimulatedConfig("node-a", {});
    expect(a).toMatchObject({ profile: "medium", cores: 32, failureRate: 0 });
    expect(parseSimulatedConfig("node-a", {}).seed).toBe(a.seed);
    expect(parseSimulatedConfig("node-b", {}).seed).not.toBe(a.seed);
  });

  it.each(Object.keys(SIMULATED_PROFILES))("probe reports the %s profile", async (profile) => {
    const facts = await simHost({ profile }).adapter.probe();
    const size = SIMULATED_PROFILES[profile as keyof typeof SIMULATED_PROFILES];
    expect(facts).toMatchObject(size);
    expect(facts.hypervisorVersion).toContain(profile);
  });

  it("lets explicit numbers override the profile", async () => {
    const facts = await simHost({
      profile: "small",
      cores: 12,
      memoryBytes: 48 * GiB,
      cpuModel: "Xeon Gold 6338",
    }).adapter.probe();
    expect(facts).toMatchObject({
      cores: 12,
      memoryBytes: 48 * GiB,
      cpuModel: "Xeon Gold 6338",
      cpuVendor: "Intel",
    });
  });

  it.each([
    [{ profile: "huge" }, "spec.hypervisor.profile must be one of small, medium, large"],
    [{ failureRate: 1.5 }, "spec.hypervisor.failureRate must be a number in [0, 1]"],
    [{ cores: 0 }, "spec.hypervisor.cores must be a number"],
    [{ seed: 1.5 }, "spec.hypervisor.seed must be an integer"],
    [
      { provisioningLatency: { mean: 100, jitter: 200 } },
      "spec.hypervisor.provisioningLatency.jitter must be a number in [0, 100], got 200",
    ],
    [{ imagePullLatency: 5 }, "spec.hypervisor.imagePullLatency must be an object"],
    [{ latency: 5 }, "spec.hypervisor.latency is not a simulated setting"],
  ])("refuses %j with InvalidHostConfig naming the field", (settings, message) => {
    expect(() => parseSimulatedConfig("h", settings)).toThrow(
      expect.objectContaining({ reason: "InvalidHostConfig", message: expect.stringContaining(message) }),
    );
  });

  it("accepts the type key of the HostNode's hypervisor block", () => {
    expect(parseSimulatedConfig("h", { type: "simulated", profile: "large" }).cores).toBe(96);
  });
});
