// Who may write a user's profile: one session at a time, a growing epoch, the pool's policy for
// a second session, and a lock whose holder is gone taken over.
import { describe, expect, it } from "@jest/globals";
import {
  decideLock,
  holdsLock,
  logoffLock,
  type LockRequest,
} from "../../../src/controllers/session/profile-lock.js";
import type { DesktopProfile, ProfileLock } from "../../../src/api/types.generated.js";

const profile = (epoch: number, lock?: ProfileLock): Pick<DesktopProfile, "spec"> => ({
  spec: {
    user: "alice@example.com",
    store: { address: "sftp://files", path: "/p", secretRef: { name: "s" } },
    epoch,
    ...(lock ? { lock } : {}),
  },
});
const heldBy = (session: string, sessionUID: string, epoch: number): ProfileLock => ({
  session,
  sessionUID,
  epoch,
});
const me = { name: "alice-2", uid: "uid-2" };
const ask = (extra: Partial<LockRequest>): LockRequest => ({
  profile: undefined,
  session: me,
  policy: "Refuse",
  holderExists: true,
  ...extra,
});

describe("decideLock", () => {
  it("creates the profile at epoch 1 on the user's first logon", () => {
    expect(decideLock(ask({}))).toEqual({ kind: "create", epoch: 1 });
  });

  it("takes a free lock at the next epoch", () => {
    expect(decideLock(ask({ profile: profile(4) }))).toEqual({ kind: "take", epoch: 5 });
  });

  it("finds the lock this session already holds, at its epoch", () => {
    expect(decideLock(ask({ profile: profile(5, heldBy("alice-2", "uid-2", 5)) }))).toEqual({
      kind: "held",
      epoch: 5,
    });
  });

  it("refuses a second session under Refuse, naming the holder and the policy", () => {
    const d = decideLock(ask({ profile: profile(5, heldBy("alice-1", "uid-1", 5)) }));
    expect(d).toMatchObject({ kind: "refuse", holder: "alice-1" });
    expect(d.kind === "refuse" && d.message).toContain("in use by session alice-1");
    expect(d.kind === "refuse" && d.message).toContain("concurrentSession is Refuse");
  });

  it("gives a second session a read-only copy under ReadOnly", () => {
    expect(
      decideLock(ask({ policy: "ReadOnly", profile: profile(5, heldBy("alice-1", "uid-1", 5)) })),
    ).toEqual({ kind: "readOnly", holder: "alice-1" });
  });

  it("takes over, at a new epoch, a lock whose holder no longer exists", () => {
    expect(
      decideLock(ask({ holderExists: false, profile: profile(5, heldBy("alice-1", "uid-1", 5)) })),
    ).toEqual({ kind: "take", epoch: 6, takenFrom: "alice-1" });
  });

  it("does not take a same-named session of another uid for the holder", () => {
    const d = decideLock(ask({ profile: profile(5, heldBy("alice-2", "uid-old", 5)) }));
    expect(d.kind).toBe("refuse");
  });

  it("makes a logon wait while an admin restores or erases the profile", () => {
    const restoring = profile(4);
    const d = decideLock(
      ask({ profile: { spec: { ...restoring.spec, restore: { version: "v000001-e1.qcow2" } } } }),
    );
    expect(d).toMatchObject({ kind: "wait" });
    expect(d.kind === "wait" && d.message).toContain("being restored to v000001-e1.qcow2");
    const erasing = { ...profile(4), metadata: { deletionTimestamp: "2026-12-06T10:00:00Z" } };
    expect(decideLock(ask({ profile: erasing }))).toMatchObject({ kind: "wait" });
  });

  it("keeps a lock this session holds even while an erase waits for it", () => {
    const held = {
      ...profile(5, heldBy("alice-2", "uid-2", 5)),
      metadata: { deletionTimestamp: "2026-12-06T10:00:00Z" },
    };
    expect(decideLock(ask({ profile: held }))).toEqual({ kind: "held", epoch: 5 });
  });
});

describe("holdsLock", () => {
  it("is true only for the holding session's uid", () => {
    expect(holdsLock(profile(2, heldBy("a", "uid-a", 2)), "uid-a")).toBe(true);
    expect(holdsLock(profile(2, heldBy("a", "uid-a", 2)), "uid-b")).toBe(false);
    expect(holdsLock(profile(2), "uid-a")).toBe(false);
    expect(holdsLock(undefined, "uid-a")).toBe(false);
  });
});

describe("logoffLock", () => {
  const desktop = { spec: { hostRef: "host-a" } as never };
  const host = (status: "True" | "False" | "Unknown", reason: string) => ({
    status: {
      conditions: [
        {
          type: "Ready",
          status,
          reason,
          message: "agent stopped posting heartbeats",
          lastTransitionTime: "2026-12-06T00:00:00Z",
        },
      ],
    },
  });

  it("releases once the desktop is gone, and waits while its agent saves", () => {
    expect(logoffLock(undefined, undefined)).toEqual({ kind: "release" });
    expect(logoffLock(desktop, host("True", "AgentReady"))).toEqual({ kind: "wait" });
    expect(logoffLock(desktop, undefined)).toEqual({ kind: "wait" });
    // No Lease at all is more likely a misplaced Lease than a dead host: the save is waited for.
    expect(logoffLock(desktop, host("Unknown", "AwaitingAgent"))).toEqual({ kind: "wait" });
  });

  it("loses the lock once the desktop's host stopped heartbeating past its grace", () => {
    const lost = logoffLock(desktop, host("Unknown", "HeartbeatExpired"));
    expect(lost.kind).toBe("lose");
    expect(lost.kind === "lose" && lost.message).toMatch(
      /lost: agent stopped posting heartbeats.*stays on host host-a.*refused/,
    );
  });
});
