// Timer bookkeeping for the simulated adapter: at most one pending timer per key, any number of
// waiters on it (created only when someone waits), and all of it cancelled when the adapter closes.
import type { Clock } from "../clock.js";

interface Entry {
  cancel: () => void;
  done?: { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void };
}

export class KeyedTimers {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly clock: Clock) {}

  /** Runs `fn` once the clock reads `at` or later (re-arming if a timer fires early). */
  schedule(key: string, at: number, fn: () => void): void {
    this.cancel(key);
    const entry: Entry = { cancel: () => undefined };
    const arm = (): void => {
      entry.cancel = this.clock.setTimeout(() => {
        if (this.clock.now() < at) return arm();
        this.entries.delete(key);
        entry.done?.resolve();
        fn();
      }, at - this.clock.now());
    };
    arm();
    this.entries.set(key, entry);
  }

  /** A promise that settles when the pending timer for `key` runs; undefined when none is pending. */
  whenDone(key: string): Promise<void> | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.done === undefined) {
      let resolve: () => void = () => undefined;
      let reject: (err: Error) => void = () => undefined;
      const promise = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
      entry.done = { promise, resolve, reject };
    }
    return entry.done.promise;
  }

  /** Cancels a timer; its waiters stay pending (it was superseded or its object is gone). */
  cancel(key: string): void {
    this.entries.get(key)?.cancel();
    this.entries.delete(key);
  }

  /** Cancels every timer and rejects every waiter with `reason`. */
  cancelAll(reason: Error): void {
    for (const entry of this.entries.values()) {
      entry.cancel();
      entry.done?.reject(reason);
    }
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
