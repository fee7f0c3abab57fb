// Backoff per (pool, host) after desktops that failed before they were ever Available: a host
// that fails every VM (a full disk, a broken hypervisor, an image it cannot fetch) would
// otherwise get the failed desktop's replacement at once, several times a second, for ever.
// Like the DaemonSet controller's backoff of nodes whose pods fail, it lives in memory: after a
// controller restart each host gets one more try before backing off again.
import { backoffDelay, type BackoffOptions, type Clock } from "../../runtime/index.js";

export const defaultFailureBackoff: BackoffOptions = { initialMs: 5_000, maxMs: 300_000 };

interface Entry {
  /** Failures in a row (no desktop created after the last failure has come up since). */
  failures: number;
  /** creationTimestamp (API server clock) of the newest failed desktop counted. */
  lastFailedCreatedAt: number;
  /** Controller clock: no new desktops of the pool go to the host before this. */
  until: number;
  /** UIDs already counted, so a failed desktop seen on many passes counts once. */
  counted: Set<string>;
  /** Why the newest counted desktop failed (its status message): the pool's status repeats it. */
  lastMessage: string;
}

const entryKey = (pool: string, host: string): string => `${pool}\0${host}`;

export interface FailureRecord {
  failures: number;
  delayMs: number;
}

export class FailureBackoff {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly clock: Clock,
    private readonly opts: BackoffOptions = defaultFailureBackoff,
  ) {}

  /**
   * Counts a desktop that failed on `host` before it was ever Available. Returns the new state
   * the first time a desktop is counted, undefined when it was counted before.
   */
  failed(
    pool: string,
    host: string,
    uid: string,
    createdAt: number,
    message = "",
  ): FailureRecord | undefined {
    const key = entryKey(pool, host);
    const now = this.clock.now();
    this.collect(now);
    const entry = this.entries.get(key) ?? {
      failures: 0,
      lastFailedCreatedAt: 0,
      until: 0,
      counted: new Set(),
      lastMessage: "",
    };
    if (entry.counted.has(uid)) return undefined;
    entry.counted.add(uid);
    // Failed desktops are deleted soon after they are counted; the newest few uids suffice.
    if (entry.counted.size > 64) entry.counted.delete(entry.counted.values().next().value as string);
    entry.failures++;
    if (createdAt >= entry.lastFailedCreatedAt) entry.lastMessage = message;
    entry.lastFailedCreatedAt = Math.max(entry.lastFailedCreatedAt, createdAt);
    // No jitter: one pool's retries on one host are not a thundering herd.
    const delayMs = backoffDelay(entry.failures, this.opts, () => 1);
    entry.until = now + delayMs;
    this.entries.set(key, entry);
    return { failures: entry.failures, delayMs };
  }

  /** A desktop created at `createdAt` came up on `host`: if it is newer than the last failure, the host works again. */
  succeeded(pool: string, host: string, createdAt: number): void {
    const key = entryKey(pool, host);
    const entry = this.entries.get(key);
    if (entry !== undefined && createdAt > entry.lastFailedCreatedAt) this.entries.delete(key);
  }

  /** Whether any host is remembered at all (false in the usual case: then nothing can be cleared). */
  get active(): boolean {
    return this.entries.size > 0;
  }

  /** Milliseconds before `host` may get new desktops of `pool` again; 0 when it may now. */
  remainingMs(pool: string, host: string): number {
    const entry = this.entries.get(entryKey(pool, host));
    return entry === undefined ? 0 : Math.max(0, entry.until - this.clock.now());
  }

  /** Why the newest failed desktop counted on `host` for `pool` failed ("" when none are remembered). */
  lastMessage(pool: string, host: string): string {
    return this.entries.get(entryKey(pool, host))?.lastMessage ?? "";
  }

  /** Failures in a row on `host` for `pool` (0 when none are remembered). */
  failures(pool: string, host: string): number {
    return this.entries.get(entryKey(pool, host))?.failures ?? 0;
  }

  /** Forgets hosts whose last failure is long past (deleted pools and hosts, fixed hosts never retried). */
  private collect(now: number): void {
    for (const [key, entry] of this.entries) {
      if (now - entry.until > 2 * this.opts.maxMs) this.entries.delete(key);
    }
  }
}
