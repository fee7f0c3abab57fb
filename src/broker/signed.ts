// The broker's signed statements: console tickets, sign-in cookies and the OIDC flow's cookie are
// all HS256 JWTs (through `jose`) signed with the one key every replica holds, told apart by their
// audience, so that none is ever taken for another. Times are whole seconds, rounded down, so a
// statement never outlives its lifetime.
import { jwtVerify, SignJWT, type JWTPayload } from "jose";

const ISSUER = "griddesk-broker";

export interface Statement {
  readonly audience: string;
  readonly claims: Record<string, unknown>;
  readonly subject?: string;
  /** The JWT's jti. */
  readonly id?: string;
  /** Milliseconds since the epoch. */
  readonly issuedAt: number;
  readonly expiresAt: number;
}

export function signStatement(key: Uint8Array, s: Statement): Promise<string> {
  const jwt = new SignJWT(s.claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setAudience(s.audience)
    .setIssuer(ISSUER)
    .setIssuedAt(Math.floor(s.issuedAt / 1000))
    .setExpirationTime(Math.floor(s.expiresAt / 1000));
  if (s.subject !== undefined) jwt.setSubject(s.subject);
  if (s.id !== undefined) jwt.setJti(s.id);
  return jwt.sign(key);
}

/** The statement's payload; throws jose's errors (JWTExpired among them) for anything else. */
export async function verifyStatement(
  key: Uint8Array,
  audience: string,
  token: string,
  now: number,
  requiredClaims: string[] = [],
): Promise<JWTPayload> {
  const { payload } = await jwtVerify(token, key, {
    algorithms: ["HS256"],
    audience,
    issuer: ISSUER,
    currentDate: new Date(now),
    requiredClaims: ["exp", ...requiredClaims],
  });
  return payload;
}
