// The KubeVirt agent: one process per cluster (a Deployment) serving every Kubernetes Node that
// runs KubeVirt as a HostNode of its own: named after the Node, `spec.nodeName` set (so the
// controller mirrors the Node's cordon), the Node's topology labels copied, and its VMIs in one
// namespace. Capacity and facts come from the Node through the adapter's probe. Nodes are found
// by a label selector at start, and watched: a Node that gets the label later is served too.
import type { KubeConfig } from "@kubernetes/client-node";
import { AdapterRegistry, systemClock, type Clock } from "../../hypervisors/index.js";
import { kubevirtAdapterFactory } from "../../hypervisors/kubevirt/index.js";
import { Informer, newWatch, ObjectClient, RestClient, type KubeObject } from "../../runtime/index.js";
import type { AgentHost, HostSource } from "../options.js";

/** Node labels a HostNode takes over, so pools can select KubeVirt hosts by zone or size. */
export const COPIED_NODE_LABELS = [
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "node.kubernetes.io/instance-type",
  "kubernetes.io/arch",
] as const;

/** Nodes KubeVirt's virt-handler marks as able to run VMIs. */
export const DEFAULT_NODE_SELECTOR = "kubevirt.io/schedulable=true";

export interface KubevirtAgentOptions {
  readonly kubeConfig: KubeConfig;
  /** The namespace every VMI is created in (it must exist; the Helm chart makes it). */
  readonly namespace: string;
  /** Which Nodes to serve (a label selector). */
  readonly nodeSelector?: string;
  readonly clock?: Clock;
  /** The containerDisks the admin allows (registry/repository prefixes); none allows nothing. */
  readonly containerDiskPrefixes: readonly string[];
}

type NodeObject = KubeObject & { spec?: { unschedulable?: boolean } };
const NODE_RESOURCE = { group: "", version: "v1", plural: "nodes", namespaced: false };

/** One HostNode per Node the selector matches. */
export function kubevirtHosts(
  nodes: readonly {
    readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>> };
  }[],
  namespace: string,
): AgentHost[] {
  return nodes.map((node) => {
    const name = node.metadata.name;
    const labels = Object.fromEntries(
      COPIED_NODE_LABELS.flatMap((k) => {
        const v = node.metadata.labels?.[k];
        return v === undefined ? [] : [[k, v]];
      }),
    );
    return { name, nodeName: name, labels, block: { nodeName: name, namespace } };
  });
}

export async function kubevirtAgentSetup(
  o: KubevirtAgentOptions,
): Promise<{ registry: AdapterRegistry; hosts: AgentHost[]; hostSource: HostSource }> {
  const rest = new RestClient(o.kubeConfig);
  const nodes = new ObjectClient<NodeObject>(rest, NODE_RESOURCE);
  const selector = o.nodeSelector ?? DEFAULT_NODE_SELECTOR;
  const found = await nodes.list({ labelSelector: selector });
  const registry = new AdapterRegistry().register(
    "kubevirt",
    kubevirtAdapterFactory({
      rest,
      watcher: newWatch(o.kubeConfig),
      clock: o.clock ?? systemClock,
      containerDiskPrefixes: o.containerDiskPrefixes,
    }),
  );
  const watcher = newWatch(o.kubeConfig);
  let informer: Informer<NodeObject> | undefined;
  const hostSource: HostSource = {
    async start(add) {
      informer = new Informer<NodeObject>(rest, watcher, {
        resource: NODE_RESOURCE,
        labelSelector: selector,
      });
      informer.addHandler({ add: (node) => kubevirtHosts([node], o.namespace).forEach(add) });
      informer.start();
    },
    async stop() {
      await informer?.stop();
    },
  };
  return { registry, hosts: kubevirtHosts(found, o.namespace), hostSource };
}
