import { describe, expect, it } from "@jest/globals";
import { InformerEvents } from "../../../src/runtime/informer-events.js";
import { silentLogger } from "../../../src/runtime/logger.js";
import type { KubeObject } from "../../../src/runtime/resource.js";
import { labelIndex, mutableCopy, Store, toCached, type Cached } from "../../../src/runtime/store.js";

interface Widget extends KubeObject {
  spec: { hostRef: string; ports: number[] };
}

function widget(name: string, hostRef: string, rv = "1", labels: Record<string, string> = {}): Widget {
  return {
    apiVersion: "example.io/v1",
    kind: "Widget",
    metadata: {
      name,
      namespace: "ns",
      resourceVersion: rv,
      uid: `uid-${name}`,
      labels,
      managedFields: [{ manager: "kubectl" }],
    },
    spec: { hostRef, ports: [80] },
  };
}

describe("toCached", () => {
  it("strips managedFields and freezes the object all the way down", () => {
    const obj = toCached(widget("a", "h1"));
    expect(obj.metadata.managedFields).toBeUndefined();
    expect(Object.isFrozen(obj)).toBe(true);
    expect(Object.isFrozen(obj.metadata.labels)).toBe(true);
    expect(Object.isFrozen(obj.spec.ports)).toBe(true);
  });

  it("mutableCopy gives a writable copy that does not touch the cached object", () => {
    const obj = toCached(widget("a", "h1"));
    const copy = mutableCopy<Widget>(obj);
    copy.spec.ports.push(443);
    copy.metadata.labels = { changed: "yes" };
    expect(obj.spec.ports).toEqual([80]);
    expect(obj.metadata.labels).toEqual({});
  });
});

describe("cache immutability through event handlers", () => {
  it("a handler that tries to mutate an object fails and the cache keeps its state", () => {
    const store = new Store<Widget>();
    const events = new InformerEvents<Widget>();
    const obj = toCached(widget("a", "h1", "1", { tier: "gold" }));
    store.upsert(obj);
    const errors: unknown[] = [];
    events.add(
      {
        add: (o) => {
          try {
            (o as Widget).metadata.labels!.tier = "tin";
          } catch (err) {
            errors.push(err);
          }
          try {
            (o as Widget).spec.ports.push(1);
          } catch (err) {
            errors.push(err);
          }
          throw new Error("handler bug"); // isolated: the next handler still runs
        },
      },
      [],
    );
    let secondSaw: Cached<Widget> | undefined;
    events.add({ add: (o) => (secondSaw = o) }, []);
    events.emitAdd(obj, silentLogger());
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof TypeError)).toBe(true);
    expect(secondSaw).toBe(obj);
    expect(store.get("ns/a")?.metadata.labels).toEqual({ tier: "gold" });
    expect(store.get("ns/a")?.spec.ports).toEqual([80]);
  });

  it("replays existing objects to a handler registered late", () => {
    const events = new InformerEvents<Widget>();
    const seen: string[] = [];
    events.add({ add: (o) => seen.push(o.metadata.name) }, [
      toCached(widget("a", "h")),
      toCached(widget("b", "h")),
    ]);
    expect(seen).toEqual(["a", "b"]);
  });
});

describe("Store", () => {
  const byHost = (o: Cached<Widget>): string[] => [o.spec.hostRef];

  it("keys by namespace/name and keeps secondary indexes current", () => {
    const store = new Store<Widget>();
    store.addIndex("host", byHost);
    store.upsert(toCached(widget("a", "h1")));
    store.upsert(toCached(widget("b", "h1")));
    store.upsert(toCached(widget("c", "h2")));
    expect(
      store
        .byIndex("host", "h1")
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(["a", "b"]);

    const old = store.upsert(toCached(widget("a", "h2", "2")));
    expect(old?.metadata.resourceVersion).toBe("1");
    expect(store.byIndex("host", "h1").map((o) => o.metadata.name)).toEqual(["b"]);
    expect(
      store
        .byIndex("host", "h2")
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(["a", "c"]);

    expect(store.remove("ns/c")?.metadata.name).toBe("c");
    expect(store.remove("ns/c")).toBeUndefined();
    expect(store.byIndex("host", "h2").map((o) => o.metadata.name)).toEqual(["a"]);
    expect(store.byIndex("host", "nowhere")).toEqual([]);
    expect(store.size).toBe(2);
  });

  it("builds an index added late over existing objects; label indexes find by label value", () => {
    const store = new Store<Widget>();
    store.upsert(toCached(widget("a", "h1", "1", { pool: "p1" })));
    store.upsert(toCached(widget("b", "h1", "1", { pool: "p2" })));
    store.upsert(toCached(widget("c", "h1")));
    const pool = labelIndex<Widget>("pool");
    store.addIndex("pool", pool);
    store.addIndex("pool", pool); // same function again: fine
    expect(() => store.addIndex("pool", labelIndex<Widget>("other"))).toThrow(/different function/);
    expect(store.byIndex("pool", "p2").map((o) => o.metadata.name)).toEqual(["b"]);
    expect(() => store.byIndex("nope", "x")).toThrow(/no index/);
  });
});
