// A shared informer for one resource (core or custom, namespaced or cluster-scoped, with an
// optional label/field selector): a paginated LIST, then a WATCH from the list's
// resourceVersion with bookmarks, feeding a frozen in-memory cache and event handlers.
//
// It never gives up. A watch the server closes cleanly is reopened from the last
// resourceVersion. Everything else relists, and the relist is diffed against the cache so
// that handlers see only real changes: 410 Gone (immediately), a stalled watch (no event or
// bookmark for stallTimeoutMs), and any error (after an exponential backoff with jitter).
import type { Logger } from "pino";
import { backoffDelay, defaultBackoff, type BackoffOptions } from "./backoff.js";
import { sleep, systemClock, type Clock } from "./clock.js";
import { apiError, GoneError, isStatus } from "./errors.js";
import { silentLogger } from "./logger.js";
import { diffRelist } from "./relist.js";
import { collectionPath, keyOf, type KubeList, type KubeObject, type ResourceRef } from "./resource.js";
import type { RestClient } from "./rest.js";
import { Store, toCached, type Cached, type IndexFunc } from "./store.js";
import type { WatchClient } from "./watch.js";
import { openWatch, type WatchOutcome } from "./watch-stream.js";
import { InformerEvents, type EventHandler } from "./informer-events.js";

export type { EventHandler };

export interface InformerOptions<T extends KubeObject> {
  resource: ResourceRef;
  /** Only this namespace (namespaced resources); all namespaces when omitted. */
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Objects per LIST page. */
  pageSize?: number;
  /** A watch silent this long (not even a bookmark) is presumed dead and replaced by a relist. */
  stallTimeoutMs?: number;
  backoff?: BackoffOptions;
  indexers?: Record<string, IndexFunc<T>>;
  clock?: Clock;
  logger?: Logger;
  /** Jitter source; tests pass a seeded one. */
  random?: () => number;
}

export interface InformerStats {
  /** Completed LISTs (the first one, then every relist). */
  lists: number;
  /** Watches opened. */
  watches: number;
  resourceVersion?: string;
}

export class Informer<T extends KubeObject = KubeObject> {
  private readonly store = new Store<T>();
  private readonly events = new InformerEvents<T>();
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly stopping = new AbortController();
  private readonly stats_: InformerStats = { lists: 0, watches: 0 };
  private synced = false;
  private readonly syncWaiters: (() => void)[] = [];
  private running?: Promise<void>;
  private abortWatch?: () => void;

  constructor(
    private readonly rest: RestClient,
    private readonly watcher: WatchClient,
    private readonly opts: InformerOptions<T>,
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = (opts.logger ?? silentLogger()).child({
      informer: collectionPath(opts.resource, opts.namespace),
    });
    for (const [name, fn] of Object.entries(opts.indexers ?? {})) this.store.addIndex(name, fn);
  }

  /** Registers handlers; objects already cached are replayed as adds. Returns an unregister function. */
  addHandler(handler: EventHandler<T>): () => void {
    return this.events.add(handler, this.store.list(), this.log);
  }

  addIndex(name: string, fn: IndexFunc<T>): void {
    this.store.addIndex(name, fn);
  }

  get(key: string): Cached<T> | undefined {
    return this.store.get(key);
  }

  list(): Cached<T>[] {
    return this.store.list();
  }

  byIndex(name: string, value: string): Cached<T>[] {
    return this.store.byIndex(name, value);
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true once the first LIST is in the cache and delivered; false if stopped first. */
  waitForSync(): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.stopping.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => this.syncWaiters.push(() => resolve(this.synced)));
  }

  stats(): InformerStats {
    return { ...this.stats_ };
  }

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.abortWatch?.();
    for (const wake of this.syncWaiters.splice(0)) wake();
    await this.running;
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) await this.relist();
        needList = false;
        const outcome = await this.watchOnce();
        if (outcome.healthy) failures = 0;
        if (outcome.stalled) {
          this.log.info({ stallTimeoutMs: this.stallTimeoutMs }, "watch stalled; relisting");
          needList = true;
        }
        if (outcome.healthy || this.stopped) continue;
        failures++; // closed or stalled without a single event: do not spin
        await sleep(this.clock, backoffDelay(failures, this.backoff, this.opts.random), this.stopping.signal);
      } catch (err) {
        if (this.stopped) break;
        needList = true;
        const immediate = err instanceof GoneError && failures === 0;
        failures++;
        const delayMs = immediate ? 0 : backoffDelay(failures, this.backoff, this.opts.random);
        this.log.warn(
          { err, delayMs },
          err instanceof GoneError ? "resourceVersion gone; relisting" : "list/watch failed",
        );
        await sleep(this.clock, delayMs, this.stopping.signal);
      }
    }
  }

  private get stallTimeoutMs(): number {
    return this.opts.stallTimeoutMs ?? 300_000;
  }

  private get backoff(): BackoffOptions {
    return this.opts.backoff ?? defaultBackoff;
  }

  private async relist(): Promise<void> {
    const { resource, namespace, labelSelector, fieldSelector } = this.opts;
    const items: Cached<T>[] = [];
    let cont: string | undefined;
    let resourceVersion: string | undefined;
    do {
      const page = await this.rest.request<KubeList<T>>({
        method: "GET",
        path: collectionPath(resource, namespace),
        query: { limit: this.opts.pageSize ?? 500, continue: cont, labelSelector, fieldSelector },
        signal: this.stopping.signal,
      });
      // List items carry no apiVersion/kind on the wire; watch events do. Make them agree.
      const kind = page.kind?.replace(/List$/, "");
      for (const item of page.items) items.push(toCached({ apiVersion: page.apiVersion, kind, ...item }));
      cont = page.metadata.continue || undefined;
      resourceVersion = page.metadata.resourceVersion;
    } while (cont);

    const diff = diffRelist(this.store.entries(), items);
    for (const obj of diff.deleted) this.store.remove(keyOf(obj.metadata));
    for (const obj of diff.added) this.store.upsert(obj);
    for (const u of diff.updated) this.store.upsert(u.new);
    this.stats_.lists++;
    this.stats_.resourceVersion = resourceVersion;
    this.log.debug({ items: items.length, resourceVersion, ...counts(diff) }, "listed");
    for (const obj of diff.deleted) this.events.emitDelete(obj, this.log);
    for (const obj of diff.added) this.events.emitAdd(obj, this.log);
    for (const u of diff.updated) this.events.emitUpdate(u.old, u.new, this.log);
    if (!this.synced) {
      this.synced = true;
      for (const wake of this.syncWaiters.splice(0)) wake();
    }
  }

  /** One watch, from the last known resourceVersion; settles when it ends. */
  private async watchOnce(): Promise<WatchOutcome> {
    const { resource, namespace, labelSelector, fieldSelector } = this.opts;
    this.stats_.watches++;
    const stream = openWatch({
      watcher: this.watcher,
      clock: this.clock,
      path: collectionPath(resource, namespace),
      query: {
        resourceVersion: this.stats_.resourceVersion,
        allowWatchBookmarks: true,
        labelSelector,
        fieldSelector,
      },
      stallTimeoutMs: this.stallTimeoutMs,
      onEvent: (phase, obj) => this.onEvent(phase, obj),
    });
    this.abortWatch = stream.stop;
    try {
      return await stream.done;
    } finally {
      this.abortWatch = undefined;
    }
  }

  private onEvent(phase: string, raw: unknown): void {
    if (phase === "ERROR") throw apiError(isStatus(raw) ? (raw.code ?? 500) : 500, raw, "watch");
    const obj = raw as T;
    const rv = obj.metadata?.resourceVersion;
    if (phase === "BOOKMARK") {
      this.stats_.resourceVersion = rv;
      return;
    }
    const cached = toCached(obj);
    this.stats_.resourceVersion = rv;
    if (phase === "DELETED") {
      if (this.store.remove(keyOf(cached.metadata))) this.events.emitDelete(cached, this.log);
      return;
    }
    const old = this.store.upsert(cached);
    if (!old) this.events.emitAdd(cached, this.log);
    else if (old.metadata.resourceVersion !== rv) this.events.emitUpdate(old, cached, this.log);
  }
}

function counts(d: { added: unknown[]; updated: unknown[]; deleted: unknown[] }): Record<string, number> {
  return { added: d.added.length, updated: d.updated.length, deleted: d.deleted.length };
}
