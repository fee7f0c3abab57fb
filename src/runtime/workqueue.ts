// A de-duplicating work queue with client-go/controller-runtime semantics:
//  - an item added while it waits is merged (queued once);
//  - an item re-added while a worker processes it is handed out again only after done(),
//    so one item is never processed concurrently with itself;
//  - addAfter delays an add (the earliest pending time wins), addRateLimited delays by the
//    rate limiter, forget clears an item's failure history;
//  - after shutDown, adds are ignored; items already queued are still handed out, and
//    shutDownWithDrain resolves once they and every in-flight item are done.
import { systemClock, type Clock } from "./clock.js";
import { defaultControllerRateLimiter, type RateLimiter } from "./ratelimit.js";

/** Hooks a metrics backend implements (see metrics.ts); every method is optional to call. */
export interface QueueMetrics {
  added(): void;
  depth(n: number): void;
  /** An item left the queue for a worker after waiting this long. */
  started(queuedSeconds: number): void;
  /** A worker called done() after working this long. */
  finished(workSeconds: number): void;
  retried(): void;
  /** Lets the backend read in-flight work at scrape time. */
  probe?(probe: QueueProbe): void;
}

export interface QueueProbe {
  unfinishedWorkSeconds(): number;
  longestRunningProcessorSeconds(): number;
}

export interface WorkQueueOptions<T> {
  clock?: Clock;
  rateLimiter?: RateLimiter<T>;
  metrics?: QueueMetrics;
}

const noMetrics: QueueMetrics = { added() {}, depth() {}, started() {}, finished() {}, retried() {} };

export class WorkQueue<T = string> implements QueueProbe {
  private readonly clock: Clock;
  private readonly limiter: RateLimiter<T>;
  private readonly metrics: QueueMetrics;
  private readonly queue: T[] = [];
  /** Items that need processing: queued, or re-added while processing. */
  private readonly dirty = new Set<T>();
  /** In-flight items and when their worker took them. */
  private readonly processing = new Map<T, number>();
  private readonly queuedAt = new Map<T, number>();
  private readonly waiting = new Map<T, { readyAt: number; cancel: () => void }>();
  private readonly getters: ((item: T | undefined) => void)[] = [];
  private readonly drainers: (() => void)[] = [];
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions<T> = {}) {
    this.clock = opts.clock ?? systemClock;
    this.limiter = opts.rateLimiter ?? defaultControllerRateLimiter<T>(this.clock);
    this.metrics = opts.metrics ?? noMetrics;
    this.metrics.probe?.(this);
  }

  add(item: T): void {
    if (this.shuttingDown || this.dirty.has(item)) return;
    this.metrics.added();
    this.dirty.add(item);
    if (!this.processing.has(item)) this.enqueue(item);
  }

  addAfter(item: T, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(item);
    const readyAt = this.clock.now() + ms;
    const pending = this.waiting.get(item);
    if (pending && pending.readyAt <= readyAt) return;
    pending?.cancel();
    const cancel = this.clock.setTimeout(() => {
      this.waiting.delete(item);
      this.add(item);
    }, ms);
    this.waiting.set(item, { readyAt, cancel });
  }

  addRateLimited(item: T): void {
    if (this.shuttingDown) return;
    this.metrics.retried();
    this.addAfter(item, this.limiter.when(item));
  }

  forget(item: T): void {
    this.limiter.forget(item);
  }

  numRequeues(item: T): number {
    return this.limiter.numRequeues(item);
  }

  /** The next item, waiting for one if needed; undefined once shut down and empty. */
  get(): Promise<T | undefined> {
    const item = this.queue.shift();
    if (item !== undefined) return Promise.resolve(this.handOut(item));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Marks the item's processing finished; if it was re-added meanwhile, it is queued again. */
  done(item: T): void {
    const started = this.processing.get(item);
    if (started === undefined) return;
    this.processing.delete(item);
    this.metrics.finished((this.clock.now() - started) / 1000);
    if (this.dirty.has(item)) this.enqueue(item);
    this.checkDrained();
  }

  len(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Ignores new adds, drops delayed adds, wakes idle getters with undefined. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) w.cancel();
    this.waiting.clear();
    this.dispatch();
    this.checkDrained();
  }

  /** shutDown, then resolves when every queued and in-flight item is done. */
  shutDownWithDrain(): Promise<void> {
    return new Promise((resolve) => {
      this.drainers.push(resolve);
      this.shutDown();
    });
  }

  unfinishedWorkSeconds(): number {
    const now = this.clock.now();
    let total = 0;
    for (const started of this.processing.values()) total += now - started;
    return total / 1000;
  }

  longestRunningProcessorSeconds(): number {
    const now = this.clock.now();
    let longest = 0;
    for (const started of this.processing.values()) longest = Math.max(longest, now - started);
    return longest / 1000;
  }

  private enqueue(item: T): void {
    this.queue.push(item);
    this.queuedAt.set(item, this.clock.now());
    this.metrics.depth(this.queue.length);
    this.dispatch();
  }

  private handOut(item: T): T {
    const now = this.clock.now();
    this.dirty.delete(item);
    this.processing.set(item, now);
    this.metrics.depth(this.queue.length);
    this.metrics.started((now - (this.queuedAt.get(item) ?? now)) / 1000);
    this.queuedAt.delete(item);
    return item;
  }

  private dispatch(): void {
    while (this.getters.length > 0 && this.queue.length > 0) {
      const resolve = this.getters.shift() as (item: T | undefined) => void;
      resolve(this.handOut(this.queue.shift() as T));
    }
    if (this.shuttingDown && this.queue.length === 0) {
      for (const resolve of this.getters.splice(0)) resolve(undefined);
    }
  }

  private checkDrained(): void {
    if (!this.shuttingDown || this.queue.length > 0 || this.processing.size > 0) return;
    for (const resolve of this.drainers.splice(0)) resolve();
  }
}
