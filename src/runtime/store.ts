// The informer's in-memory cache: objects by key, plus secondary indexes. Stored objects
// are stripped of metadata.managedFields (often half an object's size, never needed by a
// controller) and deep-frozen: every reader shares one instance, so a reconciler that
// mutated it would corrupt what every other reader sees. Mutating one throws a TypeError
// (ES modules run in strict mode); take a mutableCopy() to change anything.
import { keyOf, type KubeObject } from "./resource.js";

export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

/** An object as the cache holds it: shared, frozen, read-only. */
export type Cached<T> = DeepReadonly<T>;

/** Maps an object to the index values it is found under (e.g. its `spec.hostRef`). */
export type IndexFunc<T extends KubeObject> = (obj: Cached<T>) => string[];

export function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}

/** What the cache stores for an object received from the API server. */
export function toCached<T extends KubeObject>(obj: T): Cached<T> {
  if (obj.metadata.managedFields !== undefined) delete obj.metadata.managedFields;
  return deepFreeze(obj);
}

/** A private, writable deep copy of a cached object. */
export function mutableCopy<T>(obj: DeepReadonly<T>): T {
  return structuredClone(obj) as T;
}

/** Label value index: finds objects by `labelKey=value`. */
export function labelIndex<T extends KubeObject>(labelKey: string): IndexFunc<T> {
  return (obj) => {
    const v = obj.metadata.labels?.[labelKey];
    return v === undefined ? [] : [v];
  };
}

export class Store<T extends KubeObject> {
  private readonly items = new Map<string, Cached<T>>();
  private readonly indexers = new Map<string, IndexFunc<T>>();
  /** index name → value → keys */
  private readonly indices = new Map<string, Map<string, Set<string>>>();

  get(key: string): Cached<T> | undefined {
    return this.items.get(key);
  }

  list(): Cached<T>[] {
    return [...this.items.values()];
  }

  get size(): number {
    return this.items.size;
  }

  entries(): ReadonlyMap<string, Cached<T>> {
    return this.items;
  }

  /** Adds an index, computed over what is already stored. Re-adding the same function is a no-op. */
  addIndex(name: string, fn: IndexFunc<T>): void {
    const existing = this.indexers.get(name);
    if (existing === fn) return;
    if (existing) throw new Error(`index ${name} already exists with a different function`);
    this.indexers.set(name, fn);
    this.indices.set(name, new Map());
    for (const [key, obj] of this.items) this.indexOne(name, fn, key, obj);
  }

  byIndex(name: string, value: string): Cached<T>[] {
    const index = this.indices.get(name);
    if (!index) throw new Error(`no index named ${name}`);
    return [...(index.get(value) ?? [])].map((k) => this.items.get(k) as Cached<T>);
  }

  /** Stores the object; returns what it replaced. */
  upsert(obj: Cached<T>): Cached<T> | undefined {
    const key = keyOf(obj.metadata);
    const old = this.items.get(key);
    if (old) this.unindex(key, old);
    this.items.set(key, obj);
    for (const [name, fn] of this.indexers) this.indexOne(name, fn, key, obj);
    return old;
  }

  /** Removes the object stored under `key`; returns it. */
  remove(key: string): Cached<T> | undefined {
    const old = this.items.get(key);
    if (!old) return undefined;
    this.unindex(key, old);
    this.items.delete(key);
    return old;
  }

  private indexOne(name: string, fn: IndexFunc<T>, key: string, obj: Cached<T>): void {
    const index = this.indices.get(name) as Map<string, Set<string>>;
    for (const value of fn(obj)) {
      let keys = index.get(value);
      if (!keys) index.set(value, (keys = new Set()));
      keys.add(key);
    }
  }

  private unindex(key: string, obj: Cached<T>): void {
    for (const [name, fn] of this.indexers) {
      const index = this.indices.get(name) as Map<string, Set<string>>;
      for (const value of fn(obj)) {
        const keys = index.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index.delete(value);
      }
    }
  }
}
