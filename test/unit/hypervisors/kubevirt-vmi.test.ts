// The KubeVirt adapter's pure parts: the VMI made for a desktop, the status read back from one
// in each phase (KubeVirt's own reason in a failure's message), and the host's settings.
import { describe, expect, it } from "@jest/globals";
import { parseKubevirtConfig } from "../../../src/hypervisors/kubevirt/config.js";
import { nodeFacts } from "../../../src/hypervisors/kubevirt/node-facts.js";
import { containerDiskOf, statusOf, vmiFor, type Vmi } from "../../../src/hypervisors/kubevirt/vmi.js";
import { checkContainerDiskPrefixes } from "../../../src/volumes/source-policy.js";

const id = { namespace: "team-a", name: "cc-1", uid: "0b7f3c2e-6a1d-4c55-9a0e-3f2d1c0b9a88" };
const resources = { cpuMilli: 1500, memoryBytes: 4 * 1024 ** 3, diskBytes: 40 * 1024 ** 3 };
const config = { nodeName: "kv-node-7", namespace: "desktops" };
const made = (): Vmi =>
  vmiFor({
    hostName: "kv-node-7",
    config,
    id,
    resources,
    imageSha256: "a".repeat(64),
    containerDisk: `registry.example.com/golden/win11@sha256:${"a".repeat(64)}`,
    createdAt: 1_000,
  });
const inPhase = (phase: string, extra: Record<string, unknown> = {}): Vmi => ({
  ...made(),
  status: { phase, ...extra },
});

describe("the KubeVirt adapter's VMI", () => {
  it("is pinned to the host's Node, sized from the spec, on the image's containerDisk, and names its Desktop", () => {
    const vmi = made();
    expect(vmi.metadata).toMatchObject({
      name: `gd-${id.uid}`,
      namespace: "desktops",
      labels: { "griddesk.io/desktop-uid": id.uid, "griddesk.io/host": "kv-node-7" },
    });
    expect(vmi.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": "kv-node-7" });
    expect(vmi.spec.domain.cpu?.cores).toBe(2); // 1500m rounded up
    expect(vmi.spec.domain.memory?.guest).toBe(String(4 * 1024 ** 3));
    expect(vmi.spec.volumes?.[0]?.containerDisk?.image).toContain("@sha256:");
    expect(statusOf(vmi)).toMatchObject({ id, resources, createdAt: 1_000, state: "provisioning" });
  });

  it.each([
    ["Pending", "provisioning"],
    ["Scheduling", "provisioning"],
    ["Scheduled", "provisioning"],
    ["Running", "running"],
    ["Succeeded", "failed"],
    ["Failed", "failed"],
  ])("reads phase %s as %s", (phase, state) => {
    expect(statusOf(inPhase(phase))?.state).toBe(state);
  });

  it("gives a running VMI its console as the endpoint, not a host and port", () => {
    expect(statusOf(inPhase("Running"))?.endpoint).toEqual({
      protocol: "vnc",
      kubevirt: { namespace: "desktops", name: `gd-${id.uid}` },
    });
  });

  it("maps a failure onto the contract's reasons, with KubeVirt's own reason in the message", () => {
    const failed = statusOf(
      inPhase("Failed", {
        reason: "PodFailed",
        conditions: [{ type: "Ready", status: "False", reason: "PodFailed", message: "launcher pod failed" }],
      }),
    );
    expect(failed).toMatchObject({ state: "failed", reason: "ProvisioningFailed" });
    expect(failed?.message).toContain("PodFailed");
    expect(failed?.message).toContain("launcher pod failed");
    const stopped = statusOf(
      inPhase("Failed", {
        phaseTransitionTimestamps: [{ phase: "Running", phaseTransitionTimestamp: "2026-12-06T08:00:00Z" }],
      }),
    );
    expect(stopped?.reason).toBe("VmStopped");
  });

  it("does not count a VMI griddesk did not make, or one being deleted", () => {
    const foreign = made();
    delete foreign.metadata.annotations;
    expect(statusOf(foreign)).toBeUndefined();
    const forged = made();
    forged.metadata.labels = { ...forged.metadata.labels, "griddesk.io/desktop-uid": "someone-else" };
    expect(statusOf(forged)).toBeUndefined();
    expect(
      statusOf({ ...made(), metadata: { ...made().metadata, deletionTimestamp: "2026-12-06T08:00:00Z" } }),
    ).toBeUndefined();
  });

  it("needs the image's containerDisk on a KubeVirt host, and says so", () => {
    expect(() => containerDiskOf({ source: "/srv/images/g.qcow2" }, ["registry.example.com/"])).toThrow(
      expect.objectContaining({
        reason: "InvalidSpec",
        message: expect.stringContaining("spec.image.containerDisk"),
      }),
    );
  });

  it("takes a containerDisk only under the admin's prefixes, by whole path segments", () => {
    const disk = (ref: string) => ({
      source: "/srv/images/g.qcow2",
      containerDisk: `${ref}@sha256:${"e".repeat(64)}`,
    });
    const allowed = ["registry.example.com/golden/", "quay.example.org:5000/vdi"];
    expect(containerDiskOf(disk("registry.example.com/golden/win11"), allowed)).toMatch(
      /^registry\.example\.com\/golden\/win11@/,
    );
    expect(containerDiskOf(disk("quay.example.org:5000/vdi/ubuntu"), allowed)).toMatch(/^quay/);
    for (const ref of [
      "registry.example.com/goldenx/win11",
      "registry.example.com/other/win11",
      "quay.example.org:5000/vdi-evil/x",
      "evil.example.com/golden/win11",
    ])
      expect(() => containerDiskOf(disk(ref), allowed)).toThrow(
        expect.objectContaining({
          reason: "SourceNotAllowed",
          retryable: false,
          message: expect.stringContaining(`containerDisk ${ref}@sha256:`),
        }),
      );
    expect(() => containerDiskOf(disk("registry.example.com/golden/win11"), [])).toThrow(
      /allows none \(the agent's --allow-container-disk-prefix/,
    );
  });

  it("refuses malformed containerDisk prefixes at the agent's start, naming the flag", () => {
    expect(() =>
      checkContainerDiskPrefixes(["registry.example.com/golden/", "localhost:5000/vdi"]),
    ).not.toThrow();
    for (const bad of [
      "registry.example.com/golden:v1",
      "registry.example.com/golden@sha256:aa",
      "Registry/x",
      "",
    ])
      expect(() => checkContainerDiskPrefixes([bad])).toThrow(
        /--allow-container-disk-prefix must be a registry or repository prefix/,
      );
  });

  it("takes its settings from the HostNode's kubevirt block, naming a bad field", () => {
    expect(parseKubevirtConfig({ nodeName: "kv-1", namespace: "desktops" })).toEqual({
      nodeName: "kv-1",
      namespace: "desktops",
    });
    for (const [settings, field] of [
      [{ namespace: "desktops" }, "nodeName"],
      [{ nodeName: "kv-1", namespace: "Desktops!" }, "namespace"],
      [{ nodeName: "kv-1", namespace: "d", uri: "x" }, "uri"],
    ] as const)
      expect(() => parseKubevirtConfig(settings)).toThrow(`spec.hypervisor.kubevirt.${field}`);
  });

  it("reports the host's facts from its Node's allocatable and virt-handler's labels", () => {
    const facts = nodeFacts(
      {
        metadata: {
          name: "kv-1",
          labels: {
            "cpu-model.node.kubevirt.io/Skylake-Server": "true",
            "cpu-vendor.node.kubevirt.io/Intel": "true",
          },
        },
        status: {
          allocatable: { cpu: "63500m", memory: "251Gi", "ephemeral-storage": "1Ti" },
          nodeInfo: { kubeletVersion: "v1.37.2" },
        },
      },
      "0.1.0",
    );
    expect(facts).toEqual({
      cpuModel: "Skylake-Server",
      cpuVendor: "Intel",
      cores: 63,
      memoryBytes: 251 * 1024 ** 3,
      localStorageBytes: 1024 ** 4,
      hypervisorVersion: "KubeVirt on Node kv-1 (kubelet v1.37.2)",
      adapterVersion: "0.1.0",
    });
  });
});
