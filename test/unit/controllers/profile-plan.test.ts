// What the profile controller does with a DesktopProfile: erase (once no session holds the
// lock), restore (under the next epoch), or nothing; and which chain a restore makes head.
import { describe, expect, it } from "@jest/globals";
import { profilePlan, restoredChain } from "../../../src/controllers/profile/plan.js";
import type { DesktopProfile } from "../../../src/api/types.generated.js";

const store = { address: "sftp://files", path: "/p", secretRef: { name: "s" } };
const profile = (
  spec: Partial<DesktopProfile["spec"]>,
  deleting = false,
): Pick<DesktopProfile, "metadata" | "spec"> => ({
  metadata: { name: "alice", ...(deleting ? { deletionTimestamp: "2026-12-06T10:00:00Z" } : {}) },
  spec: { user: "alice@example.com", store, epoch: 4, ...spec },
});
const lock = { session: "alice-2", sessionUID: "uid-2", epoch: 4 };

describe("profilePlan", () => {
  it("does nothing for a profile nobody asked anything of", () => {
    expect(profilePlan(profile({}))).toEqual({ kind: "none" });
    expect(profilePlan(profile({ lock }))).toEqual({ kind: "none" });
  });

  it("erases a deleted profile, but only once no session holds its lock", () => {
    expect(profilePlan(profile({}, true))).toEqual({ kind: "erase" });
    expect(profilePlan(profile({ lock }, true))).toEqual({ kind: "eraseWaits", holder: "alice-2" });
  });

  it("restores under the next epoch, never while a session holds the lock", () => {
    const restore = { version: "v000001-e1.qcow2" };
    expect(profilePlan(profile({ restore }))).toEqual({
      kind: "restore",
      version: restore.version,
      epoch: 5,
    });
    expect(profilePlan(profile({ restore, lock }))).toEqual({ kind: "none" });
    expect(profilePlan(profile({ restore }, true))).toEqual({ kind: "erase" }); // erasing wins
  });
});

describe("restoredChain", () => {
  const head = { chain: ["v000001-e1.qcow2", "v000002-e2.qcow2", "v000003-e5.qcow2"] };
  it("ends the chain at the version", () => {
    expect(restoredChain(head, "v000002-e2.qcow2")).toEqual(["v000001-e1.qcow2", "v000002-e2.qcow2"]);
    expect(restoredChain(head, "v000003-e5.qcow2")).toEqual(head.chain);
  });
  it("is undefined for a version not in the chain", () => {
    expect(restoredChain(head, "v000004-e6.qcow2")).toBeUndefined();
    expect(restoredChain({ chain: [] }, "v000001-e1.qcow2")).toBeUndefined();
  });
});
