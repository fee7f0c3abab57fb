import { describe, expect, it } from "@jest/globals";
import type { Desktop, DesktopSession } from "../../../src/api/types.generated.js";
import { Index } from "../../../src/controllers/shared/indexes.js";
import { allWaitingSessionKeys, waitingSessionKeys } from "../../../src/controllers/watches.js";
import type { Cached } from "../../../src/runtime/index.js";

const session = (name: string, created: string, status?: DesktopSession["status"]) =>
  ({
    metadata: { namespace: "ns", name, creationTimestamp: created },
    spec: { poolRef: "p", user: `${name}@example.com` },
    ...(status ? { status } : {}),
  }) as Cached<DesktopSession>;
const desktop = (name: string, phase: string, bound = false) =>
  ({
    metadata: { namespace: "ns", name },
    spec: { poolRef: "p", ...(bound ? { sessionRef: { name: "x" } } : {}) },
    status: { phase },
  }) as Cached<Desktop>;

/** The two informer lookups the function uses, over plain lists. */
function lookups(sessions: Cached<DesktopSession>[], desktops: Cached<Desktop>[]) {
  const by =
    <T>(list: T[]) =>
    (index: string, key: string): T[] =>
      index === Index.Pool && key === "ns/p" ? list : [];
  return { sessions: { byIndex: by(sessions) }, desktops: { byIndex: by(desktops) } };
}

const waiting = [
  session("carol", "2026-11-25T09:00:03Z"),
  session("alice", "2026-11-25T09:00:01Z", { phase: "Pending" }),
  session("bob", "2026-11-25T09:00:02Z"),
  session("dave", "2026-11-25T09:00:00Z", { phase: "Ready", desktopRef: "d0" }),
];

describe("which waiting sessions a free desktop wakes", () => {
  it("wakes as many waiters as there are free desktops, oldest first", () => {
    const free = [desktop("d1", "Available"), desktop("d2", "Available")];
    const busy = [desktop("d3", "Available", true), desktop("d4", "Provisioning")];
    expect(waitingSessionKeys(lookups(waiting, [...free, ...busy]), "ns/p").map((r) => r.name)).toEqual([
      "alice",
      "bob",
    ]);
  });

  it("wakes no one while no desktop is free, and everyone waiting when the pool is gone", () => {
    expect(waitingSessionKeys(lookups(waiting, [desktop("d4", "Provisioning")]), "ns/p")).toEqual([]);
    expect(
      allWaitingSessionKeys(lookups(waiting, []), "ns/p")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["alice", "bob", "carol"]);
  });
});
