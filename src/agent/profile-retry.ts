// When to do a profile step (pure): try a failed one again (attaching a profile at logon or
// saving it at logoff), and write a running session's profile back. The wait is measured from
// the desktop's status (lastAttemptTime, attempts, lastWriteBackTime), not from the work queue,
// because the agent's own status write brings the next pass at once.
import type { ProfileDiskStatus } from "../api/index.js";
import { parseDuration } from "../controllers/session/timeouts.js";

/** The first retry waits this long, doubling per failed attempt up to the maximum. */
export const PROFILE_RETRY_BASE_MS = 2_000;
export const PROFILE_RETRY_MAX_MS = 300_000;

/** Milliseconds until the failed step may be tried again (0: now, or nothing failed). */
export function profileRetryIn(status: ProfileDiskStatus | undefined, nowMs: number): number {
  if (status?.phase !== "Failed" || !status.lastAttemptTime) return 0;
  const failedAt = Date.parse(status.lastAttemptTime);
  if (Number.isNaN(failedAt)) return 0;
  const attempts = Math.max(1, status.attempts ?? 1);
  const wait = Math.min(PROFILE_RETRY_BASE_MS * 2 ** Math.min(attempts - 1, 30), PROFILE_RETRY_MAX_MS);
  return Math.max(0, failedAt + wait - nowMs);
}

/**
 * Milliseconds until the next write-back of an attached profile is due (0: now), one interval
 * after the last (or the attach); undefined when write-back is off or the disk is not attached.
 */
export function writeBackIn(
  status: ProfileDiskStatus | undefined,
  interval: string | undefined,
  nowMs: number,
): number | undefined {
  const every = parseDuration(interval);
  if (!every || status?.phase !== "Attached") return undefined;
  const last = Date.parse(status.lastWriteBackTime ?? "");
  if (Number.isNaN(last)) return 0;
  return Math.max(0, last + every - nowMs);
}
