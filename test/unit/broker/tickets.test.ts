// Console tickets: signed, short-lived, bound to user, session and desktop; every refusal says why
// without quoting the ticket. Redemption: a ticket is used once, expired uses are dropped, and a
// session that is not the ticket's user's (or gone) answers the same as one that never existed.
import { describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import type { DesktopSession } from "../../../src/api/index.js";
import { checkSession, MAX_REDEEMED, redemption } from "../../../src/broker/redeem.js";
import { ConsoleRefused } from "../../../src/broker/refusals.js";
import { TicketBook, type TicketClaims } from "../../../src/broker/tickets.js";

const claims: TicketClaims = {
  user: "alice",
  namespace: "team-a",
  session: "alice",
  sessionUid: "s-uid-1",
  desktop: "office-1234",
  desktopUid: "d-uid-1",
};

async function refusal(p: Promise<unknown>): Promise<ConsoleRefused> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ConsoleRefused) return err;
    throw err;
  }
  throw new Error("not refused");
}

describe("console tickets", () => {
  const key = randomBytes(32);
  let now = 1_800_000_000_000;
  const book = new TicketBook(key, 30_000, () => now);

  it("round-trips its claims, with an id and an expiry", async () => {
    const issued = await book.issue(claims);
    const t = await book.verify(issued.ticket);
    expect(t).toMatchObject(claims);
    expect(t.id).toBe(issued.id);
    expect(t.expiresAt).toBe(issued.expiresAt);
    expect(t.expiresAt - now).toBeLessThanOrEqual(30_000);
    expect((await book.issue(claims)).id).not.toBe(issued.id);
  });

  it("refuses a missing, forged, tampered or expired ticket, never quoting it", async () => {
    const { ticket } = await book.issue(claims);
    expect(await refusal(book.verify(undefined))).toMatchObject({ reason: "Missing" });
    expect(await refusal(book.verify(""))).toMatchObject({ reason: "Missing" });
    const forger = new TicketBook(randomBytes(32), 30_000, () => now);
    const forged = (await forger.issue(claims)).ticket;
    const r = await refusal(book.verify(forged));
    expect(r).toMatchObject({ reason: "Invalid" });
    expect(r.message).not.toContain(forged);
    const [h, p, s] = ticket.split(".") as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, "base64url").toString());
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: "mallory" })).toString("base64url")}.${s}`;
    expect(await refusal(book.verify(tampered))).toMatchObject({ reason: "Invalid" });
    const unsigned = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${p}.`;
    expect(await refusal(book.verify(unsigned))).toMatchObject({ reason: "Invalid" });
    expect(await refusal(book.verify("not a ticket"))).toMatchObject({ reason: "Invalid" });
    now += 31_000;
    expect(await refusal(book.verify(ticket))).toMatchObject({ reason: "Expired" });
  });

  it("refuses a short key and a lifetime under a second", () => {
    expect(() => new TicketBook(randomBytes(31))).toThrow(/at least 32 bytes/);
    expect(() => new TicketBook(randomBytes(32), 500)).toThrow(/at least 1 s/);
  });
});

describe("redemption", () => {
  const t = { ...claims, id: "AAAAAAAAAAAAAAAAAAAAAA", expiresAt: 2_000_000 };

  it("adds the ticket and drops expired ones", () => {
    const list = redemption([{ id: "old", expiresAt: new Date(999_000).toISOString() }], t, 1_000_000);
    expect(list.map((r) => r.id)).toEqual([t.id]);
  });

  it("refuses a ticket used already, and too many live ones", async () => {
    const used = redemption(undefined, t, 1_000_000);
    expect(await refusal(Promise.resolve().then(() => redemption(used, t, 1_000_500)))).toMatchObject({
      reason: "Reused",
    });
    const full = Array.from({ length: MAX_REDEEMED }, (_, i) => ({
      id: `t${i}`,
      expiresAt: new Date(2_000_000).toISOString(),
    }));
    expect(await refusal(Promise.resolve().then(() => redemption(full, t, 1_000_000)))).toMatchObject({
      reason: "TooMany",
    });
  });

  const session = (
    over: Partial<DesktopSession["status"]> = {},
    user = "alice",
    uid = "s-uid-1",
  ): DesktopSession =>
    ({
      apiVersion: "griddesk.io/v1alpha1",
      kind: "DesktopSession",
      metadata: { namespace: "team-a", name: "alice", uid },
      spec: { poolRef: "office", user },
      status: { phase: "Ready", desktopRef: "office-1234", ...over },
    }) as DesktopSession;

  it("accepts the ticket's user's Ready session on the ticket's desktop", () => {
    expect(checkSession(session(), t).metadata.name).toBe("alice");
  });

  it("answers another user's session exactly as a missing one", async () => {
    const gone = await refusal(Promise.resolve().then(() => checkSession(undefined, t)));
    const other = await refusal(Promise.resolve().then(() => checkSession(session({}, "bob"), t)));
    const remade = await refusal(
      Promise.resolve().then(() => checkSession(session({}, "alice", "s-uid-2"), t)),
    );
    expect(other).toMatchObject({ reason: gone.reason, message: gone.message });
    expect(remade).toMatchObject({ reason: "SessionGone" });
  });

  it("refuses a session that is not Ready or is on another desktop", async () => {
    expect(
      await refusal(Promise.resolve().then(() => checkSession(session({ phase: "Ending" }), t))),
    ).toMatchObject({
      reason: "NotReady",
    });
    expect(
      await refusal(Promise.resolve().then(() => checkSession(session({ desktopRef: "office-9999" }), t))),
    ).toMatchObject({ reason: "Forbidden" });
  });
});
