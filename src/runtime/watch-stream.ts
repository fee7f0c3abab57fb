// One watch request as a promise: it settles when the stream ends, when the caller stops it,
// when an event handler throws, or when nothing (not even a bookmark) arrived for
// stallTimeoutMs. Whichever comes first wins; the connection is always aborted.
import type { Clock } from "./clock.js";
import { apiError } from "./errors.js";
import type { Query } from "./rest.js";
import type { WatchClient } from "./watch.js";

export interface WatchStreamOptions {
  watcher: WatchClient;
  clock: Clock;
  path: string;
  query: Query;
  stallTimeoutMs: number;
  /** Called per event; a throw ends the stream with that error. */
  onEvent(phase: string, obj: unknown): void;
}

export interface WatchOutcome {
  /** At least one event or bookmark arrived. */
  healthy: boolean;
  /** Ended by the stall timer. */
  stalled: boolean;
}

export interface WatchStream {
  /** Resolves when the stream ends cleanly, stalls or is stopped; rejects on an error. */
  done: Promise<WatchOutcome>;
  stop(): void;
}

export function openWatch(opts: WatchStreamOptions): WatchStream {
  let stop = (): void => {};
  const done = new Promise<WatchOutcome>((resolve, reject) => {
    let healthy = false;
    let settled = false;
    let connection: AbortController | undefined;
    let cancelStallTimer = (): void => {};
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      cancelStallTimer();
      connection?.abort();
      fn();
    };
    const armStallTimer = (): void => {
      cancelStallTimer();
      cancelStallTimer = opts.clock.setTimeout(
        () => settle(() => resolve({ healthy, stalled: true })),
        opts.stallTimeoutMs,
      );
    };
    stop = () => settle(() => resolve({ healthy, stalled: false }));
    armStallTimer();
    opts.watcher
      .watch(
        opts.path,
        opts.query,
        (phase: string, obj: unknown) => {
          if (settled) return;
          healthy = true;
          armStallTimer();
          try {
            opts.onEvent(phase, obj);
          } catch (err) {
            settle(() => reject(err));
          }
        },
        (err: unknown) =>
          settle(() => (err ? reject(watchError(err)) : resolve({ healthy, stalled: false }))),
      )
      .then((c) => {
        connection = c;
        if (settled) c.abort();
      })
      .catch((err: unknown) => settle(() => reject(err)));
  });
  return { done, stop: () => stop() };
}

/** client-node reports a non-200 watch response as an Error with `statusCode`. */
function watchError(err: unknown): unknown {
  const code = (err as { statusCode?: unknown }).statusCode;
  return typeof code === "number" ? apiError(code, undefined, "watch") : err;
}
