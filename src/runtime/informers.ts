// One informer per resource + namespace + selectors, shared by every controller that asks,
// so a process watches each thing once.
import type { Logger } from "pino";
import type { Clock } from "./clock.js";
import { Informer } from "./informer.js";
import type { KubeObject, ResourceRef } from "./resource.js";
import type { RestClient } from "./rest.js";
import type { IndexFunc } from "./store.js";
import type { WatchClient } from "./watch.js";

export interface InformerRequest<T extends KubeObject> {
  resource: ResourceRef;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  indexers?: Record<string, IndexFunc<T>>;
}

export interface InformerFactoryDeps {
  rest: RestClient;
  newWatch: () => WatchClient;
  logger?: Logger;
  clock?: Clock;
  stallTimeoutMs?: number;
}

export class InformerFactory {
  private readonly informers = new Map<string, Informer<KubeObject>>();
  private started = false;

  constructor(private readonly deps: InformerFactoryDeps) {}

  /** The shared informer for `req`, created on first use (and started if the factory runs). */
  get<T extends KubeObject>(req: InformerRequest<T>): Informer<T> {
    const { resource: r, namespace = "", labelSelector = "", fieldSelector = "" } = req;
    const key = [r.group, r.version, r.plural, namespace, labelSelector, fieldSelector].join("|");
    let informer = this.informers.get(key) as Informer<T> | undefined;
    if (!informer) {
      const { rest, newWatch, logger, clock, stallTimeoutMs } = this.deps;
      informer = new Informer<T>(rest, newWatch(), { ...req, indexers: {}, logger, clock, stallTimeoutMs });
      this.informers.set(key, informer as unknown as Informer<KubeObject>);
      if (this.started) informer.start();
    }
    for (const [name, fn] of Object.entries(req.indexers ?? {})) informer.addIndex(name, fn);
    return informer;
  }

  start(): void {
    this.started = true;
    for (const informer of this.informers.values()) informer.start();
  }

  hasSynced(): boolean {
    return [...this.informers.values()].every((i) => i.hasSynced());
  }

  /** True once every informer has synced; false if any was stopped first. */
  async waitForSync(): Promise<boolean> {
    const results = await Promise.all([...this.informers.values()].map((i) => i.waitForSync()));
    return results.every(Boolean);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}
