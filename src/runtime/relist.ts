// What a relist means for the cache, as a pure function: objects new to the cache are adds,
// objects whose resourceVersion changed are updates, objects gone from the list are deletes,
// an object re-created under the same name (new uid) is a delete then an add,
// and objects with the same resourceVersion produce nothing (client-node's own informer
// re-emits those as updates; handlers would see a storm after every reconnect).
import { keyOf, type KubeObject } from "./resource.js";
import type { Cached } from "./store.js";

export interface RelistDiff<T extends KubeObject> {
  added: Cached<T>[];
  updated: { old: Cached<T>; new: Cached<T> }[];
  deleted: Cached<T>[];
}

export function diffRelist<T extends KubeObject>(
  cached: ReadonlyMap<string, Cached<T>>,
  listed: readonly Cached<T>[],
): RelistDiff<T> {
  const diff: RelistDiff<T> = { added: [], updated: [], deleted: [] };
  const seen = new Set<string>();
  for (const obj of listed) {
    const key = keyOf(obj.metadata);
    seen.add(key);
    const old = cached.get(key);
    if (!old) diff.added.push(obj);
    else if (old.metadata.uid !== obj.metadata.uid) {
      // Deleted and re-created under the same name while we were not watching.
      diff.deleted.push(old);
      diff.added.push(obj);
    } else if (old.metadata.resourceVersion !== obj.metadata.resourceVersion)
      diff.updated.push({ old, new: obj });
  }
  for (const [key, old] of cached) if (!seen.has(key)) diff.deleted.push(old);
  return diff;
}
