// Console tickets: short-lived, signed statements "this user may open the console of this
// session's desktop", handed to the page and presented on the WebSocket URL (a browser cannot put
// headers on a WebSocket). Signed (signed.ts) with a key every broker replica holds, so any
// replica verifies any replica's ticket. A ticket works once: the id is recorded on
// the session when it is used (redeem.ts), where every replica sees it. Tickets are credentials:
// they never go into a log line, an Event or an error message.
import { randomBytes } from "node:crypto";
import { errors } from "jose";
import { ConsoleRefused } from "./refusals.js";
import { signStatement, verifyStatement } from "./signed.js";

/** Who may open which console. The uids pin the objects: a session made again under the same name is another session. */
export interface TicketClaims {
  readonly user: string;
  readonly namespace: string;
  readonly session: string;
  readonly sessionUid: string;
  readonly desktop: string;
  readonly desktopUid: string;
}

export interface VerifiedTicket extends TicketClaims {
  /** The ticket's unique id (the JWT's jti). */
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export interface IssuedTicket {
  readonly ticket: string;
  readonly id: string;
  readonly expiresAt: number;
}

/** The smallest key accepted: HS256 wants at least the hash's 32 bytes. */
export const MIN_SIGNING_KEY_BYTES = 32;
export const DEFAULT_TICKET_TTL_MS = 30_000;
const AUDIENCE = "griddesk-console";
const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export class TicketBook {
  private readonly key: Uint8Array;

  constructor(
    key: Uint8Array,
    private readonly ttlMs: number = DEFAULT_TICKET_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {
    if (key.length < MIN_SIGNING_KEY_BYTES)
      throw new Error(`the signing key must be at least ${MIN_SIGNING_KEY_BYTES} bytes, got ${key.length}`);
    if (!(ttlMs >= 1000)) throw new Error(`the ticket lifetime must be at least 1 s, got ${ttlMs} ms`);
    this.key = key;
  }

  async issue(claims: TicketClaims): Promise<IssuedTicket> {
    const id = randomBytes(16).toString("base64url");
    const issuedAt = this.now();
    const expiresAt = issuedAt + this.ttlMs;
    const ticket = await signStatement(this.key, {
      audience: AUDIENCE,
      subject: claims.user,
      id,
      claims: {
        ns: claims.namespace,
        ses: claims.session,
        sesUid: claims.sessionUid,
        dsk: claims.desktop,
        dskUid: claims.desktopUid,
      },
      issuedAt,
      expiresAt,
    });
    return { ticket, id, expiresAt: Math.floor(expiresAt / 1000) * 1000 };
  }

  /** The ticket's claims, or throws ConsoleRefused (Missing, Invalid, Expired). The message never quotes the ticket. */
  async verify(ticket: string | undefined | null): Promise<VerifiedTicket> {
    if (!ticket) throw new ConsoleRefused("Missing", "a console ticket is required");
    let payload;
    try {
      payload = await verifyStatement(this.key, AUDIENCE, ticket, this.now(), ["jti", "sub"]);
    } catch (err) {
      if (err instanceof errors.JWTExpired)
        throw new ConsoleRefused("Expired", "the console ticket has expired");
      throw new ConsoleRefused("Invalid", "the console ticket is not valid");
    }
    const s = (v: unknown): string => (typeof v === "string" ? v : "");
    const claims: VerifiedTicket = {
      id: s(payload.jti),
      user: s(payload.sub),
      namespace: s(payload.ns),
      session: s(payload.ses),
      sessionUid: s(payload.sesUid),
      desktop: s(payload.dsk),
      desktopUid: s(payload.dskUid),
      expiresAt: (payload.exp ?? 0) * 1000,
    };
    if (!ID_PATTERN.test(claims.id) || Object.values(claims).some((v) => v === ""))
      throw new ConsoleRefused("Invalid", "the console ticket is not valid");
    return claims;
  }
}
