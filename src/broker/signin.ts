// Who is signed in: a cookie holding a signed statement (signed.ts) of the user and their groups, HttpOnly, Secure, SameSite=Lax. Any replica verifies any replica's cookie
// with the shared key: the broker keeps no sign-in state. Cookies are credentials: never logged.
import { signStatement, verifyStatement } from "./signed.js";

export const SIGNIN_COOKIE = "griddesk_signin";
const AUDIENCE = "griddesk-signin";
export const DEFAULT_SIGNIN_TTL_MS = 8 * 3600_000;

export interface Identity {
  readonly user: string;
  readonly groups: readonly string[];
}

export class SignInCookies {
  constructor(
    private readonly key: Uint8Array,
    readonly ttlMs: number = DEFAULT_SIGNIN_TTL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(identity: Identity): Promise<string> {
    const now = this.now();
    return signStatement(this.key, {
      audience: AUDIENCE,
      subject: identity.user,
      claims: { groups: [...identity.groups] },
      issuedAt: now,
      expiresAt: now + this.ttlMs,
    });
  }

  /** The identity a cookie proves, or undefined for a missing, forged or expired one. */
  async verify(cookie: string | undefined): Promise<Identity | undefined> {
    if (!cookie) return undefined;
    try {
      const payload = await verifyStatement(this.key, AUDIENCE, cookie, this.now(), ["sub"]);
      const groups = Array.isArray(payload.groups) ? payload.groups.filter((g) => typeof g === "string") : [];
      return payload.sub ? { user: payload.sub, groups } : undefined;
    } catch {
      return undefined;
    }
  }

  /** The cookie's attributes: only sent over HTTPS, invisible to scripts, not sent on cross-site requests' subresources. */
  options(secure: boolean) {
    return {
      path: "/",
      httpOnly: true,
      secure,
      sameSite: "lax" as const,
      maxAge: Math.floor(this.ttlMs / 1000),
    };
  }
}
