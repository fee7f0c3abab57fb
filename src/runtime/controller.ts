// A controller: event sources map object events to request keys on a work queue; N workers
// take keys and call the reconciler, never two at once for one key (the queue guarantees
// it). The outcome vocabulary is documented in reconcile.ts.
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { systemClock, type Clock } from "./clock.js";
import type { EventHandler } from "./informer-events.js";
import { ConflictError } from "./errors.js";
import { controllerLogger, reconcileLogger, silentLogger } from "./logger.js";
import { ownObject, type MapFunc } from "./mapping.js";
import type { ReconcileMetrics, ReconcileResult, RuntimeMetrics } from "./metrics.js";
import type { RateLimiter } from "./ratelimit.js";
import { isPanic, TerminalError, type Reconciler, type Request, type Result } from "./reconcile.js";
import { keyOf, parseKey, type KubeObject } from "./resource.js";
import { WorkQueue } from "./workqueue.js";

/** Anything that delivers object events; an Informer is one. */
export interface EventSource<T extends KubeObject> {
  addHandler(handler: EventHandler<T>): () => void;
}

export interface ControllerOptions {
  /** Names the controller in logs and metrics, and its work queue. */
  name: string;
  reconciler: Reconciler;
  /** Concurrent reconciles (of different keys). Default 1. */
  workers?: number;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  clock?: Clock;
  rateLimiter?: RateLimiter<string>;
  /** Reconcile IDs; default random UUIDs. */
  newID?: () => string;
}

const noReconcileMetrics: ReconcileMetrics = { result() {}, activeWorkers() {} };

export interface WatchOptions {
  /**
   * Enqueue this long after an event instead of at once; the events of that window make one
   * reconcile. For roll-ups (counts, allocation) that every child change would otherwise
   * rewrite: a burst of N changes then costs one status write, not N.
   */
  coalesceMs?: number;
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue<string>;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly metrics: ReconcileMetrics;
  private readonly workers: number;
  private readonly sources: (() => () => void)[] = [];
  private readonly unregister: (() => void)[] = [];
  private readonly inFlight = new AbortController();
  private workerLoops: Promise<void>[] = [];
  private state: "new" | "running" | "stopped" = "new";

  constructor(private readonly opts: ControllerOptions) {
    this.name = opts.name;
    this.clock = opts.clock ?? systemClock;
    this.workers = opts.workers ?? 1;
    this.log = controllerLogger(opts.logger ?? silentLogger(), opts.name);
    this.metrics = opts.metrics?.reconciler(opts.name, this.workers) ?? noReconcileMetrics;
    this.queue = new WorkQueue<string>({
      clock: this.clock,
      rateLimiter: opts.rateLimiter,
      metrics: opts.metrics?.queue(opts.name),
    });
  }

  /**
   * Enqueues map(obj) for every add, update (old and new object) and delete that `source`
   * delivers, once the controller is started. Register watches before start().
   */
  watch<T extends KubeObject>(
    source: EventSource<T>,
    map: MapFunc<T> = ownObject,
    opts: WatchOptions = {},
  ): void {
    if (this.state !== "new") throw new Error(`controller ${this.name}: watch() after start()`);
    const delay = opts.coalesceMs ?? 0;
    const enqueue = (obj: Parameters<MapFunc<T>>[0]): void => {
      for (const req of map(obj)) {
        if (delay > 0) this.queue.addAfter(keyOf(req), delay);
        else this.enqueue(req);
      }
    };
    this.sources.push(() =>
      source.addHandler({
        add: enqueue,
        update: (oldObj, newObj) => {
          enqueue(oldObj);
          enqueue(newObj);
        },
        delete: enqueue,
      }),
    );
  }

  enqueue(req: Request): void {
    this.queue.add(keyOf(req));
  }

  /** Subscribes to the sources (which replay what their caches hold) and starts the workers. */
  start(): void {
    if (this.state !== "new") throw new Error(`controller ${this.name} already started`);
    this.state = "running";
    for (const subscribe of this.sources) this.unregister.push(subscribe());
    this.workerLoops = Array.from({ length: this.workers }, () => this.worker());
    this.log.info({ workers: this.workers }, "controller started");
  }

  /**
   * Stops taking events, lets queued and in-flight reconciles finish for up to `timeoutMs`,
   * then aborts the stragglers' signal. Resolves true if everything finished in time.
   */
  async stop(timeoutMs = 30_000): Promise<boolean> {
    if (this.state === "stopped") return true;
    this.state = "stopped";
    for (const off of this.unregister.splice(0)) off();
    let cancel = (): void => {};
    const timedOut = new Promise<false>(
      (resolve) => (cancel = this.clock.setTimeout(() => resolve(false), timeoutMs)),
    );
    const drained = Promise.all([this.queue.shutDownWithDrain(), ...this.workerLoops]).then(
      () => true as const,
    );
    const finished = await Promise.race([drained, timedOut]);
    cancel();
    if (!finished) {
      this.log.warn({ timeoutMs }, "reconciles still running at shutdown; aborting them");
      this.inFlight.abort();
    }
    this.log.info("controller stopped");
    return finished;
  }

  private async worker(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      await this.process(key);
    }
  }

  private async process(key: string): Promise<void> {
    const req = parseKey(key);
    const reconcileID = (this.opts.newID ?? randomUUID)();
    const log = reconcileLogger(this.log, req, reconcileID);
    const started = this.clock.now();
    this.metrics.activeWorkers(1);
    let outcome: ReconcileResult;
    try {
      const result = await this.opts.reconciler.reconcile(req, {
        log,
        reconcileID,
        signal: this.inFlight.signal,
      });
      outcome = this.onResult(key, result);
    } catch (err) {
      outcome = this.onError(key, err, log);
    } finally {
      this.queue.done(key);
      this.metrics.activeWorkers(-1);
    }
    this.metrics.result(outcome, (this.clock.now() - started) / 1000);
    log.debug({ result: outcome }, "reconcile finished");
  }

  private onResult(key: string, result: Result | undefined): ReconcileResult {
    if (result && "requeueAfter" in result && result.requeueAfter > 0) {
      this.queue.forget(key);
      this.queue.addAfter(key, result.requeueAfter);
      return "requeue_after";
    }
    if (result && "requeue" in result && result.requeue) {
      this.queue.addRateLimited(key);
      return "requeue";
    }
    this.queue.forget(key);
    return "success";
  }

  private onError(key: string, err: unknown, log: Logger): ReconcileResult {
    if (err instanceof TerminalError) {
      this.queue.forget(key);
      log.error({ err }, "reconcile failed terminally; not retrying");
      return "terminal_error";
    }
    this.queue.addRateLimited(key);
    const retries = this.queue.numRequeues(key);
    if (isPanic(err)) {
      log.error({ err, retries }, "observed a panic in reconciler");
      return "panic";
    }
    if (err instanceof ConflictError) {
      // Optimistic concurrency at work, not a fault: someone wrote the object since our cache
      // saw it. Retried like any error, but without an error-level stack trace in the log.
      log.info({ retries, conflict: err.message }, "object changed meanwhile; retrying");
      return "error";
    }
    log.error({ err, retries }, "reconciler error");
    return "error";
  }
}
