// A KubeVirt host's facts from its Node, as pure functions: capacity from the Node's allocatable,
// the CPU model and vendor from the labels KubeVirt's virt-handler puts on it, the versions from
// its nodeInfo.
import type { HostFacts } from "../adapter.js";
import { parseBytes, parseCpuMilli } from "../../scheduler/quantity.js";

export interface NodeObject {
  metadata: { name: string; labels?: Record<string, string> };
  status?: {
    allocatable?: Record<string, string>;
    capacity?: Record<string, string>;
    nodeInfo?: { kubeletVersion?: string; architecture?: string; kernelVersion?: string };
  };
}

/** The value after a label prefix such as `cpu-model.node.kubevirt.io/` (virt-handler's labels). */
function labelled(labels: Record<string, string>, prefix: string): string | undefined {
  const key = Object.keys(labels)
    .filter((k) => k.startsWith(prefix) && labels[k] === "true")
    .sort()[0];
  return key?.slice(prefix.length);
}

function quantity(q: string | undefined, parse: (s: string) => number): number {
  if (q === undefined) return 0;
  try {
    return parse(q);
  } catch {
    return 0;
  }
}

export function nodeFacts(node: NodeObject, adapterVersion: string): HostFacts {
  const labels = node.metadata.labels ?? {};
  const allocatable = node.status?.allocatable ?? node.status?.capacity ?? {};
  const info = node.status?.nodeInfo ?? {};
  return {
    cpuModel:
      labelled(labels, "host-model-cpu.node.kubevirt.io/") ??
      labelled(labels, "cpu-model.node.kubevirt.io/") ??
      info.architecture ??
      "unknown",
    cpuVendor: labelled(labels, "cpu-vendor.node.kubevirt.io/") ?? "unknown",
    cores: Math.floor(quantity(allocatable.cpu, parseCpuMilli) / 1000),
    memoryBytes: quantity(allocatable.memory, parseBytes),
    localStorageBytes: quantity(allocatable["ephemeral-storage"], parseBytes),
    hypervisorVersion: `KubeVirt on Node ${node.metadata.name} (kubelet ${info.kubeletVersion ?? "unknown"})`,
    adapterVersion,
  };
}
