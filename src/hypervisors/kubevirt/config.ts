// The KubeVirt adapter's settings: the HostNode's `spec.hypervisor.kubevirt` block, one HostNode
// per Kubernetes Node that runs KubeVirt. Validated up front (InvalidHostConfig naming the field).
import { AdapterError } from "../errors.js";

export interface KubevirtHostConfig {
  /** The Node every VMI of this host is pinned to (nodeSelector kubernetes.io/hostname). */
  readonly nodeName: string;
  /** The namespace the agent creates this host's VMIs in. */
  readonly namespace: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function bad(field: string, problem: string): never {
  throw new AdapterError("InvalidHostConfig", `spec.hypervisor.kubevirt.${field} ${problem}`);
}

export function parseKubevirtConfig(settings: Readonly<Record<string, unknown>>): KubevirtHostConfig {
  const unknown = Object.keys(settings).find((k) => k !== "nodeName" && k !== "namespace");
  if (unknown !== undefined) bad(unknown, "is not a kubevirt setting; known: nodeName, namespace");
  const { nodeName, namespace } = settings;
  if (typeof nodeName !== "string" || nodeName.length > 253 || !DNS_SUBDOMAIN.test(nodeName))
    bad("nodeName", `must be a Node's name, got ${JSON.stringify(nodeName)}`);
  if (typeof namespace !== "string" || namespace.length > 63 || !DNS_LABEL.test(namespace))
    bad("namespace", `must be a namespace's name, got ${JSON.stringify(namespace)}`);
  return { nodeName, namespace };
}
