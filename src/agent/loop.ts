// Small concurrency helpers for per-host work over hundreds of hosts: a periodic loop driven by
// an injected clock, and a bounded-parallelism map so one round never floods the API server.
import { sleep, type Clock } from "../runtime/index.js";

export interface Loop {
  /** Ends the loop; resolves once a round in progress has finished. */
  stop(): Promise<void>;
}

/** Runs `round` now and then `intervalMs` after each round ends, until stopped. */
export function every(clock: Clock, intervalMs: number, round: () => Promise<void>): Loop {
  const stopping = new AbortController();
  const running = (async () => {
    while (!stopping.signal.aborted) {
      await round();
      await sleep(clock, intervalMs, stopping.signal);
    }
  })();
  return {
    async stop() {
      stopping.abort();
      await running;
    },
  };
}

/** Calls `fn` on every item, at most `limit` at once; rejects with the first failure. */
export async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
