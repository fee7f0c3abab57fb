// The session controller's side of a drain (pure): a session whose notice carries a deadline is
// ended with reason HostDrained once that deadline passes — but only while its host still has
// that very drain in force (same deadline, forceLogoff on), so a withdrawn or replaced drain can
// never end a session through a stale notice. The session reconciler stays the one path that
// ends sessions; it requeues itself for the deadline like any timeout.
import type { DesktopSession, HostNode } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";
import type { TimeoutVerdict } from "../session/timeouts.js";

/** How soon to look again while the session's notice and its host's status disagree. */
const CONSISTENCY_RECHECK_MS = 1_000;

export function drainVerdict(
  session: Cached<DesktopSession>,
  host: Cached<HostNode> | undefined,
  now: number,
): TimeoutVerdict {
  const deadline = session.status?.notice?.deadline;
  const request = host?.spec.drain;
  if (!deadline || !host || !request || request.forceLogoff === false) return {};
  // The cache may show the notice before the host's recorded deadline: look again shortly.
  if (host.status?.drain?.deadline !== deadline) return { nextCheckMs: CONSISTENCY_RECHECK_MS };
  const at = Date.parse(deadline);
  if (Number.isNaN(at)) return {};
  if (at > now) return { nextCheckMs: at - now };
  const why = request.reason ? ` (${request.reason})` : "";
  return {
    end: {
      reason: "HostDrained",
      message: `host ${host.metadata.name} was drained for maintenance${why}: ${request.message}`,
    },
  };
}

/** Two verdicts as one: the first that ends the session, else the sooner recheck. */
export function earliest(a: TimeoutVerdict, b: TimeoutVerdict): TimeoutVerdict {
  if (a.end) return a;
  if (b.end) return b;
  const next = [a.nextCheckMs, b.nextCheckMs].filter((n): n is number => n !== undefined);
  return next.length > 0 ? { nextCheckMs: Math.min(...next) } : {};
}
