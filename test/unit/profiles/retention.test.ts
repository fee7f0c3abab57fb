// Which versions the store keeps: the newest saved versions with their chains, every pinned
// chain, never a name that is not a version's; and the order and chains the names imply.
import { describe, expect, it } from "@jest/globals";
import { retentionPlan } from "../../../src/profiles/retention.js";
import {
  chainOf,
  compactedName as c,
  compareVersions,
  lineagePosition,
  parseVersionName,
  versionName as v,
} from "../../../src/profiles/versions.js";

/** A store's versions as [name, backing] pairs. */
const store = (...pairs: [string, string | undefined][]) => new Map(pairs);

// v1 <- v2 <- v3, compacted into c3; v4 and v5 build on c3 (epochs 1..5, one save each).
const lineage = store(
  [v(1, 1), undefined],
  [v(2, 2), v(1, 1)],
  [v(3, 3), v(2, 2)],
  [c(3, 3), undefined],
  [v(4, 4), c(3, 3)],
  [v(5, 5), v(4, 4)],
);

describe("version names", () => {
  it("parse back, and order by epoch, then lineage place, a save before its compacted base", () => {
    expect(parseVersionName(c(12, 7))).toEqual({ position: 12, epoch: 7, compacted: true });
    expect(parseVersionName("notes.txt")).toBeUndefined();
    expect([v(4, 4), c(3, 3), v(1, 9), v(3, 3), v(2, 3)].sort(compareVersions)).toEqual([
      v(2, 3),
      v(3, 3),
      c(3, 3),
      v(4, 4),
      v(1, 9),
    ]);
  });

  it("count the lineage on across compactions", () => {
    expect(lineagePosition([])).toBe(0);
    expect(lineagePosition([c(16, 4)])).toBe(16);
    expect(lineagePosition([c(16, 4), v(17, 5)])).toBe(17);
  });

  it("give each version the chain its backing links make, or none when a link is gone", () => {
    expect(chainOf(lineage, v(5, 5))).toEqual([c(3, 3), v(4, 4), v(5, 5)]);
    expect(chainOf(lineage, v(3, 3))).toEqual([v(1, 1), v(2, 2), v(3, 3)]);
    expect(chainOf(store([v(2, 2), v(1, 1)]), v(2, 2))).toBeUndefined();
    expect(chainOf(store([v(1, 1), v(2, 2)], [v(2, 2), v(1, 1)]), v(2, 2))).toBeUndefined(); // a loop
  });
});

describe("retentionPlan", () => {
  it("keeps the newest saves with the chains they open on, and deletes the rest", () => {
    const plan = retentionPlan(lineage, 2, [[c(3, 3), v(4, 4), v(5, 5)]]);
    expect(plan.keep).toEqual([c(3, 3), v(4, 4), v(5, 5)]);
    expect(plan.remove).toEqual([v(1, 1), v(2, 2), v(3, 3)]);
    expect(plan.restorable).toEqual([v(5, 5), v(4, 4)]);
  });

  it("keeps a compacted-away save whole while it is among the newest", () => {
    const plan = retentionPlan(lineage, 3, [[c(3, 3), v(4, 4), v(5, 5)]]);
    expect(plan.remove).toEqual([]);
    // v1 and v2 stay as v3's chain, so they can be restored too.
    expect(plan.restorable).toEqual([v(5, 5), v(4, 4), v(3, 3), v(2, 2), v(1, 1)]);
  });

  it("never deletes a pinned chain (the head, the lock holder's base), whatever the retention", () => {
    // A restore made v2 head again at epoch 6 and its writer saved v3-e6 over it.
    const restored = store(...lineage, [v(3, 6), v(2, 2)]);
    const plan = retentionPlan(restored, 1, [
      [v(1, 1), v(2, 2), v(3, 6)],
      [v(1, 1), v(2, 2)],
    ]);
    expect(plan.keep).toEqual([v(1, 1), v(2, 2), v(3, 6)]);
    expect(plan.remove).toEqual([v(3, 3), c(3, 3), v(4, 4), v(5, 5)]);
  });

  it("keeps what a pinned version is backed by even past a missing link, and lists no broken save", () => {
    const broken = store([v(2, 2), v(1, 1)], [v(3, 3), v(2, 2)], [v(1, 4), undefined]);
    const plan = retentionPlan(broken, 1, [[v(3, 3)]]);
    expect(plan.keep).toEqual([v(2, 2), v(3, 3), v(1, 4)]);
    expect(plan.remove).toEqual([]);
    expect(plan.restorable).toEqual([v(1, 4)]);
  });

  it("leaves a name that is not a version's alone", () => {
    const plan = retentionPlan(store(["README", undefined], [v(1, 1), undefined]), 1, []);
    expect(plan).toEqual({ keep: [v(1, 1)], remove: [], restorable: [v(1, 1)] });
  });
});
