// Using a console ticket: the session it names must still be that user's, Ready and bound to that
// desktop, and the ticket must not have been used. Its use is recorded in the session's
// status.console.redeemedTickets by a resourceVersion-checked write, so of two replicas that
// receive one ticket at once exactly one wins: the other's write conflicts, it reads again and
// finds the ticket used. The decisions are pure functions; `redeem` is the read-check-write loop.
import type { DesktopSession, RedeemedTicket } from "../api/index.js";
import { toKubeTime } from "../api/index.js";
import { ConflictError, NotFoundError, type ObjectClient } from "../runtime/index.js";
import { ConsoleRefused } from "./refusals.js";
import type { VerifiedTicket } from "./tickets.js";

/** As many unexpired used tickets as the schema keeps per session (maxItems). */
export const MAX_REDEEMED = 32;
const CONFLICT_RETRIES = 5;

/** Throws ConsoleRefused unless the ticket's session is its user's, Ready, on its desktop. */
export function checkSession(session: DesktopSession | undefined, t: VerifiedTicket): DesktopSession {
  // One answer for "no such session" and "someone else's": nothing about another user leaks.
  if (session === undefined || session.metadata.uid !== t.sessionUid || session.spec.user !== t.user)
    throw new ConsoleRefused("SessionGone", "the session of this console ticket no longer exists");
  if (session.metadata.deletionTimestamp || session.status?.phase !== "Ready")
    throw new ConsoleRefused("NotReady", `the session is ${session.status?.phase ?? "Pending"}, not Ready`);
  if (session.status.desktopRef !== t.desktop)
    throw new ConsoleRefused("Forbidden", "the console ticket names a desktop this session is not bound to");
  return session;
}

/** The redeemed list with `t` added and expired entries dropped, or a refusal. */
export function redemption(
  current: readonly RedeemedTicket[] | undefined,
  t: Pick<VerifiedTicket, "id" | "expiresAt">,
  now: number,
): RedeemedTicket[] {
  const live = (current ?? []).filter((r) => Date.parse(r.expiresAt) > now);
  if (live.some((r) => r.id === t.id))
    throw new ConsoleRefused("Reused", "this console ticket was used already");
  if (live.length >= MAX_REDEEMED)
    throw new ConsoleRefused("TooMany", "too many console connections were opened in the last minute");
  return [...live, { id: t.id, expiresAt: toKubeTime(new Date(t.expiresAt)) }];
}

/** Records the ticket's use on its session (once, across replicas); returns the session as checked. */
export async function redeem(
  sessions: ObjectClient<DesktopSession>,
  t: VerifiedTicket,
  now: () => number,
): Promise<DesktopSession> {
  const name = { namespace: t.namespace, name: t.session };
  for (let attempt = 0; ; attempt++) {
    const session = checkSession(await sessions.tryGet(name), t);
    const redeemedTickets = redemption(session.status?.console?.redeemedTickets, t, now());
    try {
      return await sessions.mergePatch(
        name,
        {
          metadata: { resourceVersion: session.metadata.resourceVersion },
          status: { console: { redeemedTickets } },
        },
        { subresource: "status" },
      );
    } catch (err) {
      if (err instanceof NotFoundError)
        throw new ConsoleRefused("SessionGone", "the session of this console ticket no longer exists");
      if (!(err instanceof ConflictError) || attempt >= CONFLICT_RETRIES) throw err;
    }
  }
}
