// Builders for scheduler tests: a healthy, empty host and a small request, overridable.

import type { DesktopRequest, HostView } from "../../../src/scheduler/index.js";

export const GiB = 1024 ** 3;

type HostOverrides = Partial<Omit<HostView, "capacity" | "allocated" | "overcommit">> & {
  capacity?: Partial<HostView["capacity"]>;
  allocated?: Partial<HostView["allocated"]>;
  overcommit?: Partial<HostView["overcommit"]>;
};

export function host(name: string, o: HostOverrides = {}): HostView {
  return {
    hypervisorType: "libvirt",
    labels: {},
    ready: true,
    unschedulable: false,
    draining: false,
    provisioning: 0,
    cachedImages: [],
    ...o,
    name,
    capacity: { cpuMilli: 16_000, memoryBytes: 64 * GiB, diskBytes: 1024 * GiB, ...o.capacity },
    overcommit: { cpu: 1, memory: 1, ...o.overcommit },
    allocated: { cpuMilli: 0, memoryBytes: 0, diskBytes: 0, desktops: 0, ...o.allocated },
  };
}

export function request(o: Partial<DesktopRequest> = {}): DesktopRequest {
  return {
    pool: "team-a/callcenter",
    cpuMilli: 2000,
    memoryBytes: 4 * GiB,
    diskBytes: 40 * GiB,
    imageSha256: "a".repeat(64),
    strategy: "BreadthFirst",
    maxProvisioningPerHost: 4,
    ...o,
  };
}

/** Freezes an object graph, so that any mutation throws in strict mode. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
