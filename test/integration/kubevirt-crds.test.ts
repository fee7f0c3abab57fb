// KubeVirt's CRDs, generated from KubeVirt's own spec, on the real API server: installed with the
// names, scope, short names, printer columns and subresources virt-operator gives them, and
// structural, so a VirtualMachineInstance is checked by KubeVirt's schema. A desktop VMI (typed by
// the generated types) is accepted; a malformed one is refused with the field named.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { dump } from "js-yaml";
import type {
  V1VirtualMachine,
  V1VirtualMachineInstance,
} from "../../src/hypervisors/kubevirt/types.generated.js";
import {
  createTestNamespace,
  deleteNamespace,
  installKubevirtCrds,
  kubectl,
  mustKubectl,
} from "./support/cluster.js";

jest.setTimeout(120_000);

let ns = "";

beforeAll(async () => {
  await installKubevirtCrds();
  ns = await createTestNamespace("kv");
});

afterAll(async () => {
  await deleteNamespace(ns);
});

/** A desktop as the KubeVirt adapter will make one: pinned to a node, its size, a CoW system disk. */
function desktopVmi(name: string): V1VirtualMachineInstance {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name, namespace: ns, labels: { "griddesk.io/desktop": name } },
    spec: {
      nodeSelector: { "kubernetes.io/hostname": "kv-node-1" },
      domain: {
        cpu: { cores: 2 },
        memory: { guest: "4Gi" },
        resources: { requests: { memory: "4Gi", cpu: "2" } },
        devices: {
          disks: [{ name: "system", disk: { bus: "virtio" } }],
          interfaces: [{ name: "default", masquerade: {} }],
        },
      },
      networks: [{ name: "default", pod: {} }],
      volumes: [{ name: "system", containerDisk: { image: "registry.example.com/golden/win11:v42" } }],
    },
  };
}

const create = (obj: unknown) =>
  kubectl(["create", "--validate=strict", "-o", "json", "-f", "-"], dump(obj, { lineWidth: -1 }));

describe("KubeVirt's CRDs from KubeVirt's spec", () => {
  it("are installed as virt-operator names them, structural, VMI without and VM with a status subresource", async () => {
    interface CrdVersion {
      name: string;
      storage: boolean;
      subresources?: unknown;
      additionalPrinterColumns: { name: string }[];
    }
    interface Crd {
      spec: { scope: string; names: { shortNames: string[] }; versions: CrdVersion[] };
      status: { conditions: { type: string; status: string }[] };
    }
    const crd = async (name: string): Promise<Crd> =>
      JSON.parse(await mustKubectl(["get", "crd", name, "-o", "json"])) as Crd;
    const vmi = await crd("virtualmachineinstances.kubevirt.io");
    expect(vmi.spec.scope).toBe("Namespaced");
    expect(vmi.spec.names.shortNames).toEqual(["vmi", "vmis"]);
    expect(vmi.spec.versions.map((v) => [v.name, v.storage])).toEqual([
      ["v1", true],
      ["v1alpha3", false],
    ]);
    expect(vmi.spec.versions[0]?.subresources).toBeUndefined();
    expect(vmi.spec.versions[0]?.additionalPrinterColumns.map((c) => c.name)).toEqual([
      "Age",
      "Phase",
      "IP",
      "NodeName",
      "Ready",
    ]);
    const vm = await crd("virtualmachines.kubevirt.io");
    expect(vm.spec.names.shortNames).toEqual(["vm", "vms"]);
    expect(vm.spec.versions[0]?.subresources).toEqual({ status: {} });
    for (const c of [vmi, vm]) {
      expect(c.status.conditions.find((x) => x.type === "Established")?.status).toBe("True");
      expect(c.status.conditions.find((x) => x.type === "NonStructuralSchema")).toBeUndefined();
    }
  });

  it("accept a desktop VMI, listed by its short name with KubeVirt's columns", async () => {
    const r = await create(desktopVmi("desk-1"));
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const stored = JSON.parse(r.stdout) as V1VirtualMachineInstance;
    expect(stored.spec.domain.cpu?.cores).toBe(2);
    expect(stored.spec.volumes?.[0]?.containerDisk?.image).toBe("registry.example.com/golden/win11:v42");
    const table = await mustKubectl(["get", "vmi", "-n", ns]);
    expect(table.split("\n")[0]).toMatch(/^NAME\s+AGE\s+PHASE\s+IP\s+NODENAME\s+READY/);
    expect(table).toContain("desk-1");
  });

  it("refuse a VMI whose fields KubeVirt's schema does not allow, naming the field", async () => {
    const wrongType = desktopVmi("desk-bad-cores") as unknown as {
      spec: { domain: { cpu: { cores: unknown } } };
    };
    wrongType.spec.domain.cpu.cores = "two";
    const r1 = await create(wrongType);
    expect(r1.code).not.toBe(0);
    expect(r1.stderr).toContain("spec.domain.cpu.cores");
    expect(r1.stderr).toContain("must be of type integer");

    const unknown = desktopVmi("desk-bogus") as unknown as { spec: Record<string, unknown> };
    unknown.spec.bogus = true;
    const r2 = await create(unknown);
    expect(r2.code).not.toBe(0);
    expect(r2.stderr).toContain('unknown field "spec.bogus"');

    const noDomain = desktopVmi("desk-no-domain") as unknown as { spec: Record<string, unknown> };
    delete noDomain.spec.domain;
    const r3 = await create(noDomain);
    expect(r3.code).not.toBe(0);
    expect(r3.stderr).toContain("spec.domain: Required value");
    expect(await kubectl(["get", "vmi", "-n", ns, "desk-bad-cores"])).toMatchObject({ code: 1 });
  });

  it("accept a VirtualMachine whose template is a desktop VMI", async () => {
    const template = desktopVmi("desk-vm");
    const vm: V1VirtualMachine = {
      apiVersion: "kubevirt.io/v1",
      kind: "VirtualMachine",
      metadata: { name: "desk-vm", namespace: ns },
      spec: { runStrategy: "Halted", template: { spec: template.spec } },
    };
    const r = await create(vm);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
