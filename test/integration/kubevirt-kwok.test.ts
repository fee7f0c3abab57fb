// What kwok stands in for, shown on the real API server with KubeVirt's CRDs: Nodes kwok keeps
// Ready (no kubelet runs here), and VirtualMachineInstances moved through the phases KubeVirt's
// virt-controller and virt-handler would give them (no container runtime runs here): pinned to a
// node, a VMI goes Scheduling -> Scheduled (status.nodeName, label kubevirt.io/nodeName) ->
// Running with Ready=True; on the failing node it goes Failed with KubeVirt's reason; deleted
// with a finalizer, it goes. Everything the VMI is checked against (KubeVirt's schema) is real.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { dump } from "js-yaml";
import type { V1VirtualMachineInstance } from "../../src/hypervisors/kubevirt/types.generated.js";
import {
  createTestNamespace,
  deleteNamespace,
  eventually,
  installKubevirtCrds,
  kubectl,
  mustKubectl,
} from "./support/cluster.js";
import { createKwokNode, FAILING_NODE, kwokNodeReady, startKwok } from "./support/kwok.js";
import { uniq } from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(120_000);

const node = `kwok-kv-${uniq()}`;
let ns = "";
let kwok: GriddeskProcess;

beforeAll(async () => {
  await installKubevirtCrds();
  ns = await createTestNamespace("kwok");
  kwok = startKwok();
  await createKwokNode(node);
  await createKwokNode(FAILING_NODE);
});

afterAll(async () => {
  await deleteNamespace(ns);
  await kwok?.kill("SIGKILL");
  for (const n of [node, FAILING_NODE]) await kubectl(["delete", "node", n, "--ignore-not-found"]);
});

function vmi(name: string, onNode: string): V1VirtualMachineInstance {
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: { name, namespace: ns, finalizers: ["griddesk.io/test"] },
    spec: {
      nodeSelector: { "kubernetes.io/hostname": onNode },
      domain: { cpu: { cores: 1 }, memory: { guest: "1Gi" }, devices: {} },
    },
  };
}

const get = async (name: string): Promise<V1VirtualMachineInstance | undefined> => {
  const r = await kubectl(["get", "vmi", "-n", ns, name, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as V1VirtualMachineInstance) : undefined;
};

const fail = (err: unknown): never => {
  throw new Error(`${String(err)}\n--- kwok\n${kwok.tail(30)}`);
};

describe("kwok standing in for KubeVirt's node side", () => {
  it("keeps its Nodes Ready", async () => {
    await kwokNodeReady(kwok, node);
  });

  it("moves a pinned VMI through Scheduling and Scheduled to Running", async () => {
    await mustKubectl(["create", "-f", "-"], dump(vmi("runs", node)));
    const phases = new Set<string>();
    const running = await eventually(
      "the VMI Running",
      async () => {
        const v = await get("runs");
        if (v?.status?.phase) phases.add(v.status.phase);
        return v?.status?.phase === "Running" ? v : undefined;
      },
      30_000,
      50,
    ).catch(fail);
    expect(running.status?.nodeName).toBe(node);
    expect(running.metadata?.labels?.["kubevirt.io/nodeName"]).toBe(node);
    expect(running.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect([...phases].filter((p) => p !== "Running").length).toBeGreaterThan(0); // seen on its way
  });

  it("fails a VMI on the failing node with KubeVirt's reason", async () => {
    await mustKubectl(["create", "-f", "-"], dump(vmi("fails", FAILING_NODE)));
    const failed = await eventually("the VMI Failed", async () => {
      const v = await get("fails");
      return v?.status?.phase === "Failed" ? v : undefined;
    }).catch(fail);
    expect(failed.status?.reason).toBe("PodFailed");
  });

  it("lets a deleted VMI go, finalizers and all", async () => {
    await mustKubectl(["delete", "vmi", "-n", ns, "runs", "--wait=false"]);
    await eventually("the VMI gone", async () => (await get("runs")) === undefined, 30_000).catch(fail);
  });
});
