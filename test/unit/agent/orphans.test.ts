// Orphan selection: a VM is an orphan unless a cached Desktop with its uid is placed on its host.
import { describe, expect, it } from "@jest/globals";
import { describeOrphans, selectOrphans } from "../../../src/agent/orphans.js";
import { vm } from "./fixtures.js";

const withUid = (uid: string, name = uid) => vm("running", { id: { namespace: "ns", name, uid } });

describe("selectOrphans", () => {
  const cache = new Map([
    ["here", { hostRef: "sim-a" }],
    ["elsewhere", { hostRef: "sim-b" }],
    ["unplaced", {}],
  ]);
  const lookup = (uid: string) => cache.get(uid);

  it.each([
    ["a Desktop on this host", "here", false],
    ["a Desktop placed on another host", "elsewhere", true],
    ["a Desktop not placed anywhere", "unplaced", true],
    ["no Desktop at all", "gone", true],
  ])("a VM of %s: orphan %s", (_what, uid, orphan) => {
    expect(selectOrphans("sim-a", [withUid(uid)], lookup).length === 1).toBe(orphan);
  });

  it("names what was removed, briefly", () => {
    const many = Array.from({ length: 12 }, (_, i) => withUid(`u${i}`, `d${i}`));
    expect(describeOrphans(many.slice(0, 1))).toBe("ns/d0 (uid u0)");
    expect(describeOrphans(many)).toMatch(/ns\/d9 \(uid u9\) and 2 more$/);
  });
});
