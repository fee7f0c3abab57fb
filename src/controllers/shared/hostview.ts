// Turns a HostNode and the desktops placed on it into the scheduler's HostView. Capacity comes
// from spec.capacity when an admin set it, else from what the agent probed (status.capacity).
import { HostNodeConditions, isConditionTrue } from "../../api/conditions.js";
import { Labels } from "../../api/constants.js";
import type { Desktop, DesktopResources, HostNode } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";
import type { HostView, Resources } from "../../scheduler/index.js";
import { parseBytes, parseCpuMilli } from "../../scheduler/index.js";
import { drainStarted } from "../drain/budget.js";

export interface Reservation extends Resources {
  host: string;
}

/** Absolute resources of one desktop; malformed quantities count as zero (the schema refuses them). */
export function desktopResources(r: Cached<DesktopResources>): Resources {
  return {
    cpuMilli: safe(() => parseCpuMilli(r.cpu)),
    memoryBytes: safe(() => parseBytes(r.memory)),
    diskBytes: safe(() => parseBytes(r.disk)),
  };
}

/** Desktops that hold resources on their host: all but Failed ones (a terminating VM still runs). */
export function holdsResources(d: Cached<Desktop>): boolean {
  return d.status?.phase !== "Failed";
}

export function hostCapacity(host: Cached<HostNode>): Resources | undefined {
  const probed = host.status?.capacity;
  const cpu = host.spec.capacity?.cpu ?? probed?.cpu;
  const memory = host.spec.capacity?.memory ?? probed?.memory;
  const disk = host.spec.capacity?.localStorage ?? probed?.localStorage;
  if (cpu === undefined || memory === undefined || disk === undefined) return undefined;
  return {
    cpuMilli: safe(() => parseCpuMilli(cpu)),
    memoryBytes: safe(() => parseBytes(memory)),
    diskBytes: safe(() => parseBytes(disk)),
  };
}

/**
 * Whether a host's agent vouches for it: the HostNode exists and is Ready (its heartbeat seen
 * renewed within the grace period). Only such a host's desktops are bound to a session or
 * counted Available: a desktop's own status is written by the agent, and says nothing once
 * no agent reports for its host (AwaitingAgent) or the host is gone.
 */
export function vouchedFor(host: Cached<HostNode> | undefined): boolean {
  return host !== undefined && isConditionTrue(host.status?.conditions, HostNodeConditions.Ready);
}

export function hostView(
  host: Cached<HostNode>,
  desktops: readonly Cached<Desktop>[],
  reservations: readonly Reservation[] = [],
): HostView {
  let cpuMilli = 0,
    memoryBytes = 0,
    diskBytes = 0,
    count = 0,
    provisioning = 0;
  for (const d of desktops) {
    if (!holdsResources(d)) continue;
    const r = desktopResources(d.spec.resources);
    cpuMilli += r.cpuMilli;
    memoryBytes += r.memoryBytes;
    diskBytes += r.diskBytes;
    count++;
    const phase = d.status?.phase;
    if (
      !d.metadata.deletionTimestamp &&
      (phase === undefined || phase === "Pending" || phase === "Provisioning")
    )
      provisioning++;
  }
  for (const r of reservations) {
    cpuMilli += r.cpuMilli;
    memoryBytes += r.memoryBytes;
    diskBytes += r.diskBytes;
    count++;
    provisioning++;
  }
  const capacity = hostCapacity(host);
  return {
    name: host.metadata.name ?? "",
    hypervisorType: host.spec.hypervisor.type,
    labels: host.metadata.labels ?? {},
    // Not ready yet: a host without known capacity, or whose agent label has not reached this
    // cache (the heartbeat Lease may arrive first). A Desktop carries its host's agent label, and
    // the agent watches Desktops by that label: one made without it would wait for no one.
    ready: capacity !== undefined && Boolean(host.metadata.labels?.[Labels.Agent]) && vouchedFor(host),
    unschedulable: host.spec.unschedulable === true,
    // A requested drain takes the host out only once admitted by the pools' budgets (drain/budget.ts).
    draining: drainStarted(host),
    capacity: capacity ?? { cpuMilli: 0, memoryBytes: 0, diskBytes: 0 },
    overcommit: { cpu: host.spec.overcommit?.cpu ?? 1, memory: host.spec.overcommit?.memory ?? 1 },
    allocated: { cpuMilli, memoryBytes, diskBytes, desktops: count },
    provisioning,
    cachedImages: (host.status?.images ?? []).flatMap((i) =>
      i.state === "Ready" && i.sha256 ? [i.sha256] : [],
    ),
  };
}

function safe(f: () => number): number {
  try {
    return f();
  } catch {
    return 0;
  }
}
