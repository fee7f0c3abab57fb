// Secondary indexes over the informer caches, so reconcilers look up related objects in O(1)
// instead of scanning the fleet.
import type { Desktop, DesktopSession } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";

export const Index = {
  /** Desktops and sessions by "namespace/pool". */
  Pool: "pool",
  /** Desktops by host name. */
  Host: "host",
  /** Desktops by the uid of the session bound to them. */
  SessionUID: "session-uid",
  /** Desktops by their own uid (orphan checks). */
  UID: "uid",
} as const;

export const poolKey = (namespace: string | undefined, pool: string): string => `${namespace ?? ""}/${pool}`;

export const desktopIndexers = {
  [Index.Pool]: (d: Cached<Desktop>) => [poolKey(d.metadata.namespace, d.spec.poolRef)],
  [Index.Host]: (d: Cached<Desktop>) => (d.spec.hostRef ? [d.spec.hostRef] : []),
  [Index.SessionUID]: (d: Cached<Desktop>) => (d.spec.sessionRef ? [d.spec.sessionRef.uid] : []),
  [Index.UID]: (d: Cached<Desktop>) => (d.metadata.uid ? [d.metadata.uid] : []),
};

export const sessionIndexers = {
  [Index.Pool]: (s: Cached<DesktopSession>) => [poolKey(s.metadata.namespace, s.spec.poolRef)],
};
