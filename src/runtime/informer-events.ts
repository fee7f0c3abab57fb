// Event handler registry for an informer. A handler that throws is logged and skipped: one
// faulty handler must not stop the others or the informer's watch loop.
import type { Logger } from "pino";
import type { KubeObject } from "./resource.js";
import type { Cached } from "./store.js";

/** Handlers receive cached (frozen, shared) objects; take a mutableCopy() to change one. */
export interface EventHandler<T extends KubeObject> {
  add?(obj: Cached<T>): void;
  update?(oldObj: Cached<T>, newObj: Cached<T>): void;
  delete?(obj: Cached<T>): void;
}

export class InformerEvents<T extends KubeObject> {
  private readonly handlers = new Set<EventHandler<T>>();

  /** Registers `handler` and replays `existing` to it as adds, as client-go does. */
  add(handler: EventHandler<T>, existing: Cached<T>[], log?: Logger): () => void {
    this.handlers.add(handler);
    for (const obj of existing) call(log, "add", () => handler.add?.(obj));
    return () => this.handlers.delete(handler);
  }

  emitAdd(obj: Cached<T>, log: Logger): void {
    for (const h of this.handlers) call(log, "add", () => h.add?.(obj));
  }

  emitUpdate(oldObj: Cached<T>, newObj: Cached<T>, log: Logger): void {
    for (const h of this.handlers) call(log, "update", () => h.update?.(oldObj, newObj));
  }

  emitDelete(obj: Cached<T>, log: Logger): void {
    for (const h of this.handlers) call(log, "delete", () => h.delete?.(obj));
  }
}

function call(log: Logger | undefined, event: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log?.error({ err, event }, "informer event handler threw");
  }
}
