// Mapping functions for the controller's watches: which reconciles an event of another kind
// should cause.
import { HostNodeConditions } from "../api/conditions.js";
import type { Desktop, DesktopSession, HostNode } from "../api/types.generated.js";
import type { Cached, Informer, Request } from "../runtime/index.js";
import { isDeepStrictEqual } from "node:util";
import { Index } from "./shared/indexes.js";

/** Sessions of a pool that still wait for a desktop: a new Available desktop (or a pool change) may serve them. */
export function waitingSessionKeys(
  informers: { sessions: Informer<DesktopSession>; desktops: Informer<Desktop> },
  poolKey: string,
): Request[] {
  const out: Request[] = [];
  for (const s of informers.sessions.byIndex(Index.Pool, poolKey)) {
    if (s.metadata.deletionTimestamp || s.status?.desktopRef) continue;
    if (s.status?.phase && s.status.phase !== "Pending") continue;
    out.push({ namespace: s.metadata.namespace, name: s.metadata.name });
  }
  return out;
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
