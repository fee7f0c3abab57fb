// Mapping functions for the controller's watches: which reconciles an event of another kind
// should cause.
import { HostNodeConditions } from "../api/conditions.js";
import type { Desktop, DesktopSession, HostNode } from "../api/types.generated.js";
import type { Cached, Informer, Request } from "../runtime/index.js";
import { isDeepStrictEqual } from "node:util";
import { Index } from "./shared/indexes.js";

/**
 * Sessions of a pool that still wait for a desktop, oldest first, at most as many as the pool
 * has free (Available, unbound) desktops: each of those can serve one. Waking every waiter on
 * every desktop or pool event instead cost 49 session reconciles per logon at 20 logons/s in
 * bench:steady, all but one finding nothing to bind. A waiter that loses a bind race retries
 * on its own; the next free desktop wakes the next oldest.
 */
export function waitingSessionKeys(
  informers: {
    sessions: Pick<Informer<DesktopSession>, "byIndex">;
    desktops: Pick<Informer<Desktop>, "byIndex">;
  },
  poolKey: string,
): Request[] {
  const waiting = waitingSessions(informers, poolKey);
  if (waiting.length === 0) return [];
  const free = informers.desktops
    .byIndex(Index.Pool, poolKey)
    .filter(
      (d) => !d.metadata.deletionTimestamp && !d.spec.sessionRef && d.status?.phase === "Available",
    ).length;
  return requests(oldestFirst(waiting).slice(0, free));
}

/** Every session of a pool still waiting (the pool is gone: each must learn it). */
export function allWaitingSessionKeys(
  informers: { sessions: Pick<Informer<DesktopSession>, "byIndex"> },
  poolKey: string,
): Request[] {
  return requests(waitingSessions(informers, poolKey));
}

function waitingSessions(
  informers: { sessions: Pick<Informer<DesktopSession>, "byIndex"> },
  poolKey: string,
): Cached<DesktopSession>[] {
  return informers.sessions
    .byIndex(Index.Pool, poolKey)
    .filter(
      (s) =>
        !s.metadata.deletionTimestamp &&
        !s.status?.desktopRef &&
        (!s.status?.phase || s.status.phase === "Pending"),
    );
}

const requests = (sessions: Cached<DesktopSession>[]): Request[] =>
  sessions.map((s) => ({ namespace: s.metadata.namespace, name: s.metadata.name }));

function oldestFirst<T extends Cached<DesktopSession>>(sessions: T[]): T[] {
  const created = (s: T) => s.metadata.creationTimestamp ?? "";
  return [...sessions].sort(
    (a, b) =>
      created(a).localeCompare(created(b)) || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""),
  );
}

/** Whether a HostNode update can change where desktops may go. Allocation updates cannot. */
export function hostChangeMatters(o: Cached<HostNode>, n: Cached<HostNode>): boolean {
  const cond = (h: Cached<HostNode>, type: string) =>
    h.status?.conditions?.find((c) => c.type === type)?.status;
  return (
    o.metadata.generation !== n.metadata.generation ||
    !isDeepStrictEqual(o.metadata.labels, n.metadata.labels) ||
    cond(o, HostNodeConditions.Ready) !== cond(n, HostNodeConditions.Ready) ||
    cond(o, HostNodeConditions.Schedulable) !== cond(n, HostNodeConditions.Schedulable) ||
    !isDeepStrictEqual(o.status?.capacity, n.status?.capacity) ||
    !isDeepStrictEqual(o.status?.images, n.status?.images)
  );
}
