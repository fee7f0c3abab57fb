// Rate limiters for the work queue, with client-go's semantics: a per-item exponential
// backoff for failures and a global token bucket so that many failing items together cannot
// flood the API server; the controller default takes the larger delay of the two.
import type { Clock } from "./clock.js";

export interface RateLimiter<T> {
  /** How long to wait before handing `item` out again; counts as one more failure. */
  when(item: T): number;
  /** Clears the failure history of `item` (it succeeded or was given up on). */
  forget(item: T): void;
  numRequeues(item: T): number;
}

/** baseMs * 2^failures, capped at maxMs (controller-runtime: 5 ms to 1000 s). */
export class ItemExponentialFailureRateLimiter<T> implements RateLimiter<T> {
  private readonly failures = new Map<T, number>();

  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}

  when(item: T): number {
    const n = this.failures.get(item) ?? 0;
    this.failures.set(item, n + 1);
    // Past 2^60 the product is far beyond any cap; avoid Infinity arithmetic.
    return n > 60 ? this.maxMs : Math.min(this.maxMs, this.baseMs * 2 ** n);
  }

  forget(item: T): void {
    this.failures.delete(item);
  }

  numRequeues(item: T): number {
    return this.failures.get(item) ?? 0;
  }
}

/**
 * A token bucket shared by all items (golang.org/x/time/rate's Reserve): `burst` tokens,
 * refilled at `qps`; a request that finds no token is told how long until its token exists.
 */
export class BucketRateLimiter<T> implements RateLimiter<T> {
  private tokens: number;
  private last: number;

  constructor(
    private readonly clock: Clock,
    private readonly qps = 10,
    private readonly burst = 100,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  when(_item: T): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.qps) / 1000);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.qps;
  }

  forget(_item: T): void {}

  numRequeues(_item: T): number {
    return 0;
  }
}

/** The longest delay of its limiters; requeue counts come from the per-item ones. */
export class MaxOfRateLimiter<T> implements RateLimiter<T> {
  private readonly limiters: RateLimiter<T>[];

  constructor(...limiters: RateLimiter<T>[]) {
    this.limiters = limiters;
  }

  when(item: T): number {
    return Math.max(0, ...this.limiters.map((l) => l.when(item)));
  }

  forget(item: T): void {
    for (const l of this.limiters) l.forget(item);
  }

  numRequeues(item: T): number {
    return Math.max(0, ...this.limiters.map((l) => l.numRequeues(item)));
  }
}

/** controller-runtime's default: per-item 5 ms..1000 s, overall 10 qps with a burst of 100. */
export function defaultControllerRateLimiter<T>(clock: Clock): RateLimiter<T> {
  return new MaxOfRateLimiter<T>(
    new ItemExponentialFailureRateLimiter<T>(5, 1_000_000),
    new BucketRateLimiter<T>(clock, 10, 100),
  );
}
