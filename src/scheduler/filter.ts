// Filters: named predicates that refuse a host for one CamelCase reason each. They run in the
// order of FILTERS and a host is reported with its first failing reason: host state, then
// matching, then the pool's failure backoff, then capacity, then the (transient) provisioning limit.

import { remaining } from "./capacity.js";
import { matchesSelector } from "./selector.js";
import type { DesktopRequest, FilterReason, HostView } from "./types.js";

export type FilterResult = { readonly ok: true } | { readonly ok: false; readonly reason: FilterReason };

export interface Filter {
  readonly name: string;
  check(request: DesktopRequest, host: HostView): FilterResult;
}

const OK: FilterResult = { ok: true };

function filter(
  name: string,
  reason: FilterReason,
  pass: (r: DesktopRequest, h: HostView) => boolean,
): Filter {
  return { name, check: (request, host) => (pass(request, host) ? OK : { ok: false, reason }) };
}

export const hostReady = filter("HostReady", "HostNotReady", (_, h) => h.ready);

export const hostSchedulable = filter("HostSchedulable", "HostCordoned", (_, h) => !h.unschedulable);

export const hostNotDraining = filter("HostNotDraining", "HostDraining", (_, h) => !h.draining);

export const hypervisorType = filter(
  "HypervisorType",
  "HypervisorTypeMismatch",
  (r, h) => (r.hypervisorTypes ?? []).length === 0 || (r.hypervisorTypes ?? []).includes(h.hypervisorType),
);

/** A KubeVirt host boots only a containerDisk: a pool whose image names none does not go there. */
export const imageForm = filter(
  "ImageForm",
  "NoContainerDisk",
  (r, h) => h.hypervisorType !== "kubevirt" || r.containerDisk === true,
);

export const hostLabels = filter("HostLabels", "LabelsMismatch", (r, h) =>
  matchesSelector(r.hostSelector, h.labels),
);

export const failureBackoff = filter(
  "FailureBackoff",
  "FailureBackoff",
  (r, h) => r.backingOff === undefined || !r.backingOff.has(h.name),
);

export const cpuFits = filter("CPUFits", "InsufficientCPU", (r, h) => r.cpuMilli <= remaining(h).cpuMilli);

export const memoryFits = filter(
  "MemoryFits",
  "InsufficientMemory",
  (r, h) => r.memoryBytes <= remaining(h).memoryBytes,
);

export const diskFits = filter(
  "DiskFits",
  "InsufficientDisk",
  (r, h) => r.diskBytes <= remaining(h).diskBytes,
);

export const provisioningLimit = filter(
  "ProvisioningLimit",
  "ProvisioningLimit",
  (r, h) => h.provisioning < r.maxProvisioningPerHost,
);

export const FILTERS: readonly Filter[] = [
  hostReady,
  hostSchedulable,
  hostNotDraining,
  hypervisorType,
  imageForm,
  hostLabels,
  failureBackoff,
  cpuFits,
  memoryFits,
  diskFits,
  provisioningLimit,
];

/** The first failing filter's result, or ok when the host passes them all. */
export function runFilters(request: DesktopRequest, host: HostView): FilterResult {
  for (const f of FILTERS) {
    const result = f.check(request, host);
    if (!result.ok) return result;
  }
  return OK;
}
