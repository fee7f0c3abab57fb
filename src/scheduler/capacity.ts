// Capacity arithmetic shared by filters, scoring and scale-in.
// allocatable = capacity × overcommit (disk never overcommitted); remaining = allocatable − allocated.

import type { HostView, Resources } from "./types.js";

export function allocatable(host: HostView): Resources {
  return {
    cpuMilli: Math.floor(host.capacity.cpuMilli * host.overcommit.cpu),
    memoryBytes: Math.floor(host.capacity.memoryBytes * host.overcommit.memory),
    diskBytes: host.capacity.diskBytes,
  };
}

export function remaining(host: HostView): Resources {
  const total = allocatable(host);
  return {
    cpuMilli: total.cpuMilli - host.allocated.cpuMilli,
    memoryBytes: total.memoryBytes - host.allocated.memoryBytes,
    diskBytes: total.diskBytes - host.allocated.diskBytes,
  };
}

type CpuMemory = { readonly cpuMilli: number; readonly memoryBytes: number };

/**
 * Normalised load in [0, 1]: the mean of the used fractions of allocatable CPU and memory,
 * after adding `extra`. Fractions make a 64-core and an 8-core host comparable.
 */
export function load(host: HostView, extra: CpuMemory = { cpuMilli: 0, memoryBytes: 0 }): number {
  const { cpuMilli, memoryBytes } = host.allocated;
  return loadAt(host, { cpuMilli: cpuMilli + extra.cpuMilli, memoryBytes: memoryBytes + extra.memoryBytes });
}

/** Normalised load of the host if `used` were allocated on it. */
export function loadAt(host: HostView, used: CpuMemory): number {
  const total = allocatable(host);
  return (fraction(used.cpuMilli, total.cpuMilli) + fraction(used.memoryBytes, total.memoryBytes)) / 2;
}

function fraction(used: number, total: number): number {
  if (!(total > 0)) return used > 0 ? 1 : 0;
  const f = used / total;
  return Number.isNaN(f) ? 1 : Math.min(1, Math.max(0, f));
}
