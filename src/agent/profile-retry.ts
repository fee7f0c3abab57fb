// When to try a failed profile step again (pure): attaching a profile at logon or saving it at
// logoff. The wait is measured from the desktop's status (lastAttemptTime, attempts), not from
// the work queue, because the agent's own status write brings the next pass at once.
import type { ProfileDiskStatus } from "../api/index.js";

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
