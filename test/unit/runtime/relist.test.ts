import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { diffRelist } from "../../../src/runtime/relist.js";
import type { KubeObject } from "../../../src/runtime/resource.js";
import { toCached, type Cached } from "../../../src/runtime/store.js";

function obj(name: string, rv: string, uid = `uid-${name}`): Cached<KubeObject> {
  return toCached({ metadata: { name, namespace: "ns", resourceVersion: rv, uid } });
}

function cache(...objs: Cached<KubeObject>[]): Map<string, Cached<KubeObject>> {
  return new Map(objs.map((o) => [`ns/${o.metadata.name}`, o]));
}

const names = (xs: Cached<KubeObject>[]): string[] => xs.map((o) => o.metadata.name).sort();

describe("diffRelist", () => {
  it("emits nothing for objects whose resourceVersion did not change", () => {
    const a = obj("a", "5");
    const d = diffRelist(cache(a, obj("b", "6")), [obj("a", "5"), obj("b", "6")]);
    expect(d).toEqual({ added: [], updated: [], deleted: [] });
  });

  it("classifies new, changed and vanished objects", () => {
    const d = diffRelist(cache(obj("keep", "1"), obj("change", "2"), obj("gone", "3")), [
      obj("keep", "1"),
      obj("change", "9"),
      obj("new", "10"),
    ]);
    expect(names(d.added)).toEqual(["new"]);
    expect(d.updated.map((u) => [u.old.metadata.resourceVersion, u.new.metadata.resourceVersion])).toEqual([
      ["2", "9"],
    ]);
    expect(names(d.deleted)).toEqual(["gone"]);
  });

  it("treats a re-created object (same name, new uid) as a delete and an add", () => {
    const d = diffRelist(cache(obj("a", "1", "old-uid")), [obj("a", "7", "new-uid")]);
    expect(d.updated).toEqual([]);
    expect(d.deleted.map((o) => o.metadata.uid)).toEqual(["old-uid"]);
    expect(d.added.map((o) => o.metadata.uid)).toEqual(["new-uid"]);
  });

  it("applied to the cache, always yields exactly the listed objects", () => {
    const state = fc.dictionary(fc.constantFrom("a", "b", "c", "d", "e"), fc.constantFrom("1", "2", "3"));
    fc.assert(
      fc.property(state, state, (before, after) => {
        const cached = cache(...Object.entries(before).map(([n, rv]) => obj(n, rv)));
        const listed = Object.entries(after).map(([n, rv]) => obj(n, rv));
        const d = diffRelist(cached, listed);
        const result = new Map(cached);
        for (const o of d.deleted) result.delete(`ns/${o.metadata.name}`);
        for (const o of [...d.added, ...d.updated.map((u) => u.new)]) result.set(`ns/${o.metadata.name}`, o);
        const rvs = Object.fromEntries(
          [...result.values()].map((o) => [o.metadata.name, o.metadata.resourceVersion]),
        );
        expect(rvs).toEqual(after);
        // Only real changes are reported.
        for (const u of d.updated)
          expect(before[u.new.metadata.name]).not.toBe(u.new.metadata.resourceVersion);
        expect(d.added.length + d.updated.length + d.deleted.length).toBe(
          Object.keys({ ...before, ...after }).filter((n) => before[n] !== after[n]).length,
        );
      }),
    );
  });
});
