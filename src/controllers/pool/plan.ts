// What the pool controller should do, decided from the cache alone (pure; table-tested).
// A pool keeps `buffer` unbound desktops for fast logon, plus one per session still waiting
// for a desktop, never fewer than `min` desktops in all and never more than `max`.
import { createHash } from "node:crypto";
import type { Desktop, DesktopPool } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";

export interface PoolCounts {
  replicas: number;
  available: number;
  provisioning: number;
  inUse: number;
  failed: number;
}

export interface PoolPlan {
  counts: PoolCounts;
  /** Unbound desktops wanted in addition to those there now. */
  create: number;
  /** Desktops to delete whatever else happens: failed, or unbound and built from an old image. */
  replace: Cached<Desktop>[];
  /** How many idle desktops to remove (the caller picks which, most loaded hosts first). */
  scaleIn: number;
  /** Idle desktops that scale-in may choose from. */
  idle: Cached<Desktop>[];
  /** The pool cannot grow: spec.max reached. */
  atMax: boolean;
}

/** Identifies the pool's golden image; desktops carry it so an image change can retire them. */
export function imageHash(pool: Cached<DesktopPool>): string {
  const { source, sha256, format, boot, containerDisk } = pool.spec.image;
  // containerDisk only when set: pools without one keep the hash (and desktops) they had.
  const parts = [source, sha256, format ?? "qcow2", boot ?? null, ...(containerDisk ? [containerDisk] : [])];
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 16);
}

/**
 * `vouched`: whether a host is vouched for (shared/hostview.ts). An unbound desktop on a host
 * that is not counts only in replicas: it neither fills the buffer nor takes room under max,
 * so the pool makes desktops on Ready hosts instead; it counts again once its host is Ready
 * (the host controller fails it if the heartbeat expired, and removes it with its HostNode).
 */
export function planPool(
  pool: Cached<DesktopPool>,
  desktops: readonly Cached<Desktop>[],
  waitingSessions: number,
  vouched: (host: string) => boolean,
): PoolPlan {
  const hash = imageHash(pool);
  const counts: PoolCounts = { replicas: 0, available: 0, provisioning: 0, inUse: 0, failed: 0 };
  const replace: Cached<Desktop>[] = [];
  const idle: Cached<Desktop>[] = [];
  let bound = 0;
  let unbound = 0;
  for (const d of desktops) {
    if (d.metadata.deletionTimestamp) continue;
    counts.replicas++;
    const phase = d.status?.phase;
    if (d.spec.sessionRef) {
      bound++;
      counts.inUse++;
      if (phase === "Failed") counts.failed++;
      continue; // a bound desktop leaves with its session (logoff), never before
    }
    if (phase === "Failed") {
      counts.failed++;
      replace.push(d);
      continue;
    }
    if (d.spec.imageHash !== undefined && d.spec.imageHash !== hash) {
      replace.push(d);
      continue;
    }
    if (!vouched(d.spec.hostRef ?? "")) continue;
    unbound++;
    if (phase === "Available") counts.available++;
    else counts.provisioning++;
    idle.push(d);
  }
  const { min = 0, max, buffer = 0 } = pool.spec;
  const wantedUnbound = Math.max(buffer + waitingSessions, min - bound, 0);
  // Failed and outdated desktops are on their way out and do not count towards max.
  const room = Math.max(0, max - bound - unbound);
  const create = Math.min(Math.max(0, wantedUnbound - unbound), room);
  const keep = Math.max(wantedUnbound, 0);
  const scaleIn = Math.max(0, unbound - keep, bound + unbound - max);
  return {
    counts,
    create,
    replace,
    scaleIn: Math.min(scaleIn, unbound),
    idle,
    atMax: bound + unbound >= max && wantedUnbound > unbound,
  };
}
