// kwok (sigs.k8s.io/kwok) as a child process of a test: it stands in for what cannot run here
// (kubelets, and KubeVirt's virt-handler and virt-launcher). It makes the Nodes annotated
// `kwok.x-k8s.io/node: fake` Ready and keeps them so (kwok's own node Stages), and moves
// VirtualMachineInstances through their phases (hack/kwok-kubevirt-stages.yaml, also used by `make run`).
// Everything else (the API server, KubeVirt's CRD schemas, what griddesk writes) is real.
// hack/test-integration.sh builds kwok once (hack/build-kwok.sh) and names it in GRIDDESK_KWOK.
import { existsSync } from "node:fs";
import path from "node:path";
import { eventually, mustKubectl } from "./cluster.js";
import { startProcess, type GriddeskProcess } from "./processes.js";

const repo = new URL("../../../", import.meta.url).pathname;
export const VMI_STAGES = path.join(repo, "hack/kwok-kubevirt-stages.yaml");
/** The node the Stages fail every VMI on (as KubeVirt fails a VMI whose launcher pod fails). */
export const FAILING_NODE = "kwok-failing-node";

export function kwokBinary(): string {
  const kwok = process.env.GRIDDESK_KWOK;
  if (!kwok || !existsSync(kwok))
    throw new Error(
      "kwok is not built: run hack/build-kwok.sh (hack/test-integration.sh does, and sets GRIDDESK_KWOK)",
    );
  return kwok;
}

/** Starts kwok against the test cluster, managing only Nodes annotated as fake. */
export function startKwok(name = "kwok"): GriddeskProcess {
  const kwok = kwokBinary();
  const stages = path.join(path.dirname(path.dirname(kwok)), "stages");
  return startProcess(name, kwok, [
    `--kubeconfig=${process.env.KUBECONFIG as string}`,
    "--manage-all-nodes=false",
    "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
    "--node-ip=127.0.0.1",
    "-c",
    path.join(stages, "node-initialize.yaml"),
    "-c",
    path.join(stages, "node-heartbeat.yaml"),
    "-c",
    VMI_STAGES,
  ]);
}

/** A Node kwok keeps Ready, with the allocatable a KubeVirt node would report. */
export async function createKwokNode(
  name: string,
  labels: Record<string, string> = {},
  allocatable = { cpu: "16", memory: "64Gi", "ephemeral-storage": "500Gi", pods: "110" },
): Promise<void> {
  const node = {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { "kwok.x-k8s.io/node": "fake" },
      labels: { "kubernetes.io/hostname": name, "kubevirt.io/schedulable": "true", ...labels },
    },
    spec: { taints: [{ key: "kwok.x-k8s.io/node", value: "fake", effect: "NoSchedule" }] },
    status: { allocatable, capacity: allocatable },
  };
  await mustKubectl(["apply", "--server-side", "-f", "-"], JSON.stringify(node));
}

/**
 * Waits until kwok has made `node` Ready; fails at once, with kwok's log, if kwok has exited
 * (a test must not wait out every timeout for a simulator that is not there).
 */
export async function kwokNodeReady(kwok: GriddeskProcess, node: string): Promise<void> {
  await eventually(
    `kwok to make Node ${node} Ready`,
    async () => {
      if (kwok.child.exitCode !== null || kwok.child.signalCode !== null)
        throw new Error(`kwok exited (${kwok.child.exitCode ?? kwok.child.signalCode}):\n${kwok.tail(10)}`);
      const ready = await mustKubectl([
        "get",
        "node",
        node,
        "-o",
        "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
      ]);
      return ready === "True";
    },
    30_000,
    100,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n--- kwok\n${kwok.tail(10)}`);
  });
}
