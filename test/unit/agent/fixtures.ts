// Shared fixtures for the agent's unit tests: desktops and VM statuses as the cache and the
// adapter would give them, and a clock whose timers fire only when told.
import type { Desktop } from "../../../src/api/index.js";
import type { VmStatus } from "../../../src/hypervisors/index.js";
import { deepFreeze, type Cached, type Clock } from "../../../src/runtime/index.js";

export const SHA = "ab".repeat(32);

export function desktop(
  overrides: Partial<Desktop["spec"]> = {},
  status?: Desktop["status"],
): Cached<Desktop> {
  return deepFreeze<Desktop>({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "Desktop",
    metadata: { name: "desk-1", namespace: "team-a", uid: "uid-1", generation: 3, resourceVersion: "10" },
    spec: {
      poolRef: "pool",
      hostRef: "sim-a",
      image: { source: "file:///img.qcow2", sha256: SHA },
      resources: { cpu: "2", memory: "4Gi", disk: "40Gi" },
      ...overrides,
    },
    ...(status ? { status } : {}),
  });
}

export function vm(state: VmStatus["state"], extra: Partial<VmStatus> = {}): VmStatus {
  return {
    id: { namespace: "team-a", name: "desk-1", uid: "uid-1" },
    state,
    resources: { cpuMilli: 2000, memoryBytes: 4 * 1024 ** 3, diskBytes: 40 * 1024 ** 3 },
    imageSha256: SHA,
    createdAt: 1,
    vmId: "gd-uid-1",
    overlayPath: "/var/lib/griddesk/overlays/gd-uid-1.qcow2",
    ...(state === "running" ? { endpoint: { protocol: "vnc", host: "sim-a.sim.invalid", port: 5901 } } : {}),
    ...extra,
  };
}

/** Time moves only through advance(); due timers then fire in order. */
export class StepClock implements Clock {
  private timers: { at: number; fn: () => void }[] = [];
  constructor(private current = 1_700_000_000_000) {}
  now(): number {
    return this.current;
  }
  setTimeout(fn: () => void, ms: number): () => void {
    const timer = { at: this.current + ms, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }
  get pending(): number {
    return this.timers.length;
  }
  advance(ms: number): void {
    this.current += ms;
    const due = this.timers.filter((t) => t.at <= this.current).sort((a, b) => a.at - b.at);
    this.timers = this.timers.filter((t) => t.at > this.current);
    for (const t of due) t.fn();
  }
}
