import { describe, expect, it } from "@jest/globals";
import { libvirtVmStatus, type Observation } from "../../../src/hypervisors/libvirt/status.js";

const owner = {
  id: { namespace: "ns", name: "d", uid: "u-1" },
  resources: { cpuMilli: 1000, memoryBytes: 1, diskBytes: 1 },
  imageSha256: "b".repeat(64),
  createdAt: 1,
};
const record = { ...owner, image: { source: "/x", sha256: owner.imageSha256, format: "qcow2" as const } };
const endpoint = { protocol: "vnc" as const, host: "127.0.0.1", port: 5901 };
const obs = (o: Partial<Observation>): Observation => ({
  owner,
  record,
  domainState: null,
  provisioning: false,
  ...o,
});

describe("libvirtVmStatus", () => {
  it.each<[string, Partial<Observation>, object]>([
    ["running domain with VNC", { domainState: "running", endpoint }, { state: "running", endpoint }],
    [
      "domain starting, task at work",
      { domainState: "paused", provisioning: true },
      { state: "provisioning" },
    ],
    ["domain shut off", { domainState: "shut off" }, { state: "failed", reason: "VmStopped" }],
    ["no domain yet, task at work", { provisioning: true }, { state: "provisioning" }],
    ["no domain, never started (task to resume)", {}, { state: "provisioning" }],
    [
      "vanished after it started",
      { record: { ...record, startedAt: 5 } },
      { state: "failed", reason: "VmStopped" },
    ],
    [
      "image pull failed",
      { record: { ...record, failure: { reason: "ImagePullFailed", message: "ImageChecksumMismatch: x" } } },
      { state: "failed", reason: "ImagePullFailed", message: "ImageChecksumMismatch: x" },
    ],
  ])("%s", (_, o, want) => {
    const status = libvirtVmStatus(obs(o));
    expect(status).toMatchObject({ id: owner.id, imageSha256: owner.imageSha256, ...want });
    if (status.state !== "running") expect(status.endpoint).toBeUndefined();
  });
});
