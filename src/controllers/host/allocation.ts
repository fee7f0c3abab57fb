// What the desktops placed on a host take, and what the host offers after overcommit (pure).
import type { Desktop, HostAllocation, HostNode, HostResources } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";
import { formatBytes, formatCpu } from "../shared/format.js";
import { desktopResources, hostCapacity, holdsResources } from "../shared/hostview.js";

export function hostAllocation(
  host: Cached<HostNode>,
  desktops: readonly Cached<Desktop>[],
): { allocated: HostAllocation; allocatable?: HostResources } {
  let cpu = 0,
    memory = 0,
    disk = 0,
    count = 0,
    sessions = 0;
  for (const d of desktops) {
    if (!holdsResources(d)) continue;
    const r = desktopResources(d.spec.resources);
    cpu += r.cpuMilli;
    memory += r.memoryBytes;
    disk += r.diskBytes;
    count++;
    if (d.spec.sessionRef) sessions++;
  }
  const allocated = {
    cpu: formatCpu(cpu),
    memory: formatBytes(memory),
    disk: formatBytes(disk),
    desktops: count,
    sessions,
  };
  const capacity = hostCapacity(host);
  if (!capacity) return { allocated };
  const oc = host.spec.overcommit ?? {};
  return {
    allocated,
    allocatable: {
      cpu: formatCpu(capacity.cpuMilli * (oc.cpu ?? 1)),
      memory: formatBytes(capacity.memoryBytes * (oc.memory ?? 1)),
      localStorage: formatBytes(capacity.diskBytes),
    },
  };
}
