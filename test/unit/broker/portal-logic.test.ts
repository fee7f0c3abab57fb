// The portal's pure decisions and its sign-in: who is entitled to a pool, the one session name a
// user has in a pool, what the page is told; static users' password checks; sign-in cookies.
import { describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DesktopPool, DesktopSession } from "../../../src/api/index.js";
import { entitled, finished, poolView, sessionNameFor } from "../../../src/broker/entitlements.js";
import { SignInCookies } from "../../../src/broker/signin.js";
import { hashPassword, StaticUsers } from "../../../src/broker/static-users.js";
import { TicketBook } from "../../../src/broker/tickets.js";

const pool = (access?: DesktopPool["spec"]["access"]): DesktopPool =>
  ({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: { namespace: "team-a", name: "office" },
    spec: { max: 3, ...(access ? { access } : {}) },
    status: { available: 2 },
  }) as DesktopPool;

describe("entitlements", () => {
  it("entitles by user name or by any of the user's groups, exactly", () => {
    const p = pool({ users: ["alice"], groups: ["staff"] });
    expect(entitled(p, { user: "alice", groups: [] })).toBe(true);
    expect(entitled(p, { user: "bob", groups: ["contractors", "staff"] })).toBe(true);
    expect(entitled(p, { user: "Alice", groups: ["Staff"] })).toBe(false);
    expect(entitled(p, { user: "carol", groups: [] })).toBe(false);
  });

  it("entitles nobody when the pool names no access", () => {
    expect(entitled(pool(), { user: "alice", groups: ["staff"] })).toBe(false);
    expect(entitled(pool({}), { user: "alice", groups: ["staff"] })).toBe(false);
  });

  it("names a user's session in a pool alike everywhere, differently per user, as a valid name", () => {
    expect(sessionNameFor("office", "alice")).toBe(sessionNameFor("office", "alice"));
    expect(sessionNameFor("office", "alice")).not.toBe(sessionNameFor("office", "bob"));
    expect(sessionNameFor("office", "alice")).toMatch(/^office-[0-9a-f]{12}$/);
    const long = sessionNameFor(`${"a".repeat(239)}.`, "alice@example.com");
    expect(long.length).toBeLessThanOrEqual(253);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
    expect(long).not.toMatch(/\.-/);
  });

  it("shows a pool with the user's running session, not an ended one", () => {
    const s = (phase: string, deleting = false): DesktopSession =>
      ({
        metadata: {
          namespace: "team-a",
          name: "x",
          ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
        },
        spec: { poolRef: "office", user: "alice" },
        status: { phase },
      }) as DesktopSession;
    expect(poolView(pool(), s("Ready")).session?.phase).toBe("Ready");
    expect(poolView(pool(), s("Ended")).session).toBeUndefined();
    expect(finished(s("Ready", true))).toBe(true);
    expect(poolView(pool(), undefined)).toEqual({ namespace: "team-a", name: "office", available: 2 });
  });
});

describe("static users", () => {
  const file = async (content: string): Promise<string> => {
    const f = path.join(mkdtempSync(path.join(tmpdir(), "gd-users-")), "users.yaml");
    writeFileSync(f, content);
    return f;
  };

  it("signs in with the right password only, with the user's groups", async () => {
    const users = StaticUsers.load(
      await file(
        `users:\n  - name: alice\n    passwordHash: "${await hashPassword("s3cret")}"\n    groups: [staff]\n`,
      ),
    );
    expect(await users.signIn("alice", "s3cret")).toEqual({ user: "alice", groups: ["staff"] });
    expect(await users.signIn("alice", "s3cre")).toBeUndefined();
    expect(await users.signIn("nobody", "s3cret")).toBeUndefined();
  });

  it("refuses a file that names the wrong thing, saying which entry and field", async () => {
    await expect(async () => StaticUsers.load(await file("people: []"))).rejects.toThrow(
      /a list under "users"/,
    );
    await expect(async () =>
      StaticUsers.load(await file("users:\n  - name: a\n    passwordHash: plain\n")),
    ).rejects.toThrow(/users\[0\]\.passwordHash must be a hash/);
    await expect(async () =>
      StaticUsers.load(
        await file(`users:\n  - name: a\n    passwordHash: "${await hashPassword("x")}"\n    groups: [1]\n`),
      ),
    ).rejects.toThrow(/users\[0\]\.groups/);
  });
});

describe("sign-in cookies", () => {
  const key = randomBytes(32);
  let now = 1_800_000_000_000;
  const cookies = new SignInCookies(key, 3600_000, () => now);

  it("proves who signed in until they expire; forged ones prove nothing", async () => {
    const c = await cookies.issue({ user: "alice", groups: ["staff"] });
    expect(await cookies.verify(c)).toEqual({ user: "alice", groups: ["staff"] });
    expect(await new SignInCookies(randomBytes(32), 3600_000, () => now).verify(c)).toBeUndefined();
    expect(await cookies.verify(undefined)).toBeUndefined();
    now += 3601_000;
    expect(await cookies.verify(c)).toBeUndefined();
  });

  it("is not a console ticket, nor a ticket a cookie, though one key signs both", async () => {
    const book = new TicketBook(key, 30_000, () => now);
    const cookie = await cookies.issue({ user: "alice", groups: [] });
    await expect(book.verify(cookie)).rejects.toMatchObject({ reason: "Invalid" });
    const { ticket } = await book.issue({
      user: "alice",
      namespace: "n",
      session: "s",
      sessionUid: "u",
      desktop: "d",
      desktopUid: "v",
    });
    expect(await cookies.verify(ticket)).toBeUndefined();
  });
});
