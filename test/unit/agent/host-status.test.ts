// HostNode status from the adapter: facts, capacity (spec wins per field), images; a patch only
// of what changed.
import { describe, expect, it } from "@jest/globals";
import { agentHostStatus, hostStatusPatch } from "../../../src/agent/host-status.js";
import { formatBytes } from "../../../src/agent/quantity.js";
import type { HostFacts, ImageStatus } from "../../../src/hypervisors/index.js";

const GiB = 1024 ** 3;
const facts: HostFacts = {
  cpuModel: "AMD EPYC 7543",
  cpuVendor: "AMD",
  cores: 32,
  memoryBytes: 256 * GiB,
  localStorageBytes: 2 * 1024 * GiB,
  hypervisorVersion: "sim 0.1.0",
  adapterVersion: "0.1.0",
};
const image = (sha: string, state: ImageStatus["state"], extra: Partial<ImageStatus> = {}): ImageStatus => ({
  source: `file:///${sha}.qcow2`,
  sha256: sha.repeat(64),
  format: "qcow2",
  state,
  ...extra,
});

describe("agentHostStatus", () => {
  it("reports probed facts and capacity as quantities", () => {
    const status = agentHostStatus("agent-1", facts, []);
    expect(status).toEqual({
      agent: "agent-1",
      facts: {
        cpuModel: "AMD EPYC 7543",
        cpuVendor: "AMD",
        cores: 32,
        memory: "256Gi",
        hypervisorVersion: "sim 0.1.0",
        adapterVersion: "0.1.0",
      },
      capacity: { cpu: "32", memory: "256Gi", localStorage: "2Ti" },
      images: [],
    });
  });

  it("takes spec.capacity where set, field by field", () => {
    const status = agentHostStatus("a", facts, [], { cpu: 64, memory: "300Gi" });
    expect(status.capacity).toEqual({ cpu: 64, memory: "300Gi", localStorage: "2Ti" });
  });

  it("lists images by sha256 with their state and why a pull failed", () => {
    const status = agentHostStatus("a", facts, [
      image("b", "failed", { reason: "ImagePullFailed", message: "404" }),
      image("a", "ready", { sizeBytes: 5 }),
    ]);
    expect(status.images).toEqual([
      { source: "file:///a.qcow2", sha256: "a".repeat(64), state: "Ready", sizeBytes: 5 },
      { source: "file:///b.qcow2", sha256: "b".repeat(64), state: "Failed", message: "ImagePullFailed: 404" },
    ]);
  });

  it("patches only the fields that changed, and nothing when none did", () => {
    const desired = agentHostStatus("a", facts, [image("a", "pulling")]);
    const cached = { ...desired, conditions: [], images: [] };
    expect(hostStatusPatch(cached, desired)).toEqual({ images: desired.images });
    expect(hostStatusPatch({ ...desired, conditions: [] }, desired)).toBeUndefined();
    expect(Object.keys(hostStatusPatch(undefined, desired) ?? {}).sort()).toEqual([
      "agent",
      "capacity",
      "facts",
      "images",
    ]);
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0"],
    [1023, "1023"],
    [1024, "1Ki"],
    [1536 * 1024, "1536Ki"],
    [64 * GiB, "64Gi"],
    [8 * 1024 ** 4, "8Ti"],
  ])("%d bytes → %s", (bytes, text) => expect(formatBytes(bytes)).toBe(text));
});
