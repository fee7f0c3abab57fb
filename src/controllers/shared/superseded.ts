// Objects a reconciler wrote, with the resourceVersion each write replaced. An informer's
// cache lags the writes made from it by a moment; a pass that finds the replaced version in
// the cache would act on a copy older than its own last write (and write the same again, or be
// refused with a conflict). Such a pass is skipped: the write's own watch event is on its way
// and brings a pass on the newer copy.
import { keyOf, type Cached, type KubeObject } from "../../runtime/index.js";

/** A bound on memory; the map is only a guard against cache lag. */
const MAX_ENTRIES = 100_000;

export class Superseded {
  private readonly replaced = new Map<string, string>();

  /** Notes a write that was based on `basis` (the copy the write started from). */
  wrote(basis: Cached<KubeObject>): void {
    const rv = basis.metadata.resourceVersion;
    if (rv === undefined) return;
    if (this.replaced.size >= MAX_ENTRIES) this.replaced.clear();
    this.replaced.set(keyOf(basis.metadata), rv);
  }

  /** Whether `cached` is a version one of our writes has already replaced. */
  isBehind(cached: Cached<KubeObject>): boolean {
    const key = keyOf(cached.metadata);
    const rv = this.replaced.get(key);
    if (rv === undefined) return false;
    if (rv === cached.metadata.resourceVersion) return true;
    this.replaced.delete(key); // the cache has caught up
    return false;
  }

  /** Forgets `key` (the object is gone). */
  forget(key: string): void {
    this.replaced.delete(key);
  }
}
