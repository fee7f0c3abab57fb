// Exponential backoff with jitter, for reconnecting watches: restarts of many informers (or
// many replicas) after an API server outage spread out instead of arriving together.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * Delay before retry number `attempt` (1-based): initialMs doubling per attempt, capped at
 * maxMs, then scaled into [50%, 100%] by `random` ("equal jitter").
 */
export function backoffDelay(
  attempt: number,
  opts: BackoffOptions,
  random: () => number = Math.random,
): number {
  const exp = Math.min(Math.max(attempt - 1, 0), 40);
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** exp);
  return base / 2 + (random() * base) / 2;
}
