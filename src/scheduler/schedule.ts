// Placement: filter, then score. `schedule` places one desktop; `scheduleBatch` places many in
// one pass over a private copy of the hosts' allocations, so a burst never overfills a host.

import { compareNames, rankHosts } from "./score.js";
import { runFilters } from "./filter.js";
import { selectorError } from "./selector.js";
import type { DesktopRequest, HostView, ScheduleResult, UnschedulableReason } from "./types.js";

type Reasons = Partial<Record<UnschedulableReason, number>>;

/** Chooses a host for one desktop, or explains, Kubernetes-style, why none fits. */
export function schedule(request: DesktopRequest, hosts: readonly HostView[]): ScheduleResult {
  const invalid = requestError(request);
  if (invalid !== undefined) {
    return { host: null, reasons: { InvalidRequest: hosts.length }, message: `invalid request: ${invalid}` };
  }
  const feasible: HostView[] = [];
  const reasons: Reasons = {};
  for (const host of hosts) {
    const result = runFilters(request, host);
    if (result.ok) feasible.push(host);
    else reasons[result.reason] = (reasons[result.reason] ?? 0) + 1;
  }
  const best = rankHosts(request, feasible)[0];
  if (best !== undefined) return { host: best.name };
  return { host: null, reasons, message: unschedulableMessage(hosts.length, reasons) };
}

/**
 * Places the requests in order. Each placement adds the desktop to a private copy of the
 * chosen host's allocation and provisioning count before the next request is considered.
 * The inputs are never mutated. Results are in the order of the requests.
 */
export function scheduleBatch(
  requests: readonly DesktopRequest[],
  hosts: readonly HostView[],
): ScheduleResult[] {
  // Host names are unique in the cluster; should a name repeat, its first view is used.
  const byName = new Map<string, HostView & { allocated: HostView["allocated"]; provisioning: number }>();
  for (const h of hosts) if (!byName.has(h.name)) byName.set(h.name, { ...h, allocated: { ...h.allocated } });
  const copies = [...byName.values()];
  return requests.map((request) => {
    const result = schedule(request, copies);
    const chosen = result.host === null ? undefined : byName.get(result.host);
    if (chosen !== undefined) {
      const a = chosen.allocated;
      chosen.allocated = {
        cpuMilli: a.cpuMilli + request.cpuMilli,
        memoryBytes: a.memoryBytes + request.memoryBytes,
        diskBytes: a.diskBytes + request.diskBytes,
        desktops: a.desktops + 1,
      };
      chosen.provisioning += 1;
    }
    return result;
  });
}

/** "0/5 hosts are available: 2 HostCordoned, 3 InsufficientMemory." (reasons in name order) */
export function unschedulableMessage(total: number, reasons: Reasons): string {
  const parts = Object.entries(reasons)
    .filter(([, n]) => n !== undefined && n > 0)
    .sort(([a], [b]) => compareNames(a, b))
    .map(([reason, n]) => `${n} ${reason}`);
  return `0/${total} hosts are available${parts.length > 0 ? `: ${parts.join(", ")}` : ""}.`;
}

/** Why the request cannot be evaluated at all, or undefined. */
export function requestError(request: DesktopRequest): string | undefined {
  for (const field of ["cpuMilli", "memoryBytes", "diskBytes"] as const) {
    const v = request[field];
    if (!Number.isFinite(v) || v < 0) return `${field} must be a finite, non-negative number, got ${v}`;
  }
  const max = request.maxProvisioningPerHost;
  if (!(max >= 1) || !(Number.isInteger(max) || max === Infinity)) {
    return `maxProvisioningPerHost must be an integer of at least 1 (or Infinity), got ${max}`;
  }
  if (request.strategy !== "BreadthFirst" && request.strategy !== "DepthFirst") {
    return `unknown strategy ${JSON.stringify(request.strategy)}`;
  }
  const selector = selectorError(request.hostSelector);
  return selector === undefined ? undefined : `hostSelector.${selector}`;
}
