// Sign-in with OpenID Connect: the authorization code flow with PKCE (S256), state and nonce,
// through `openid-client` (certified relying party). /auth/login sends the browser to the
// identity provider with the flow's secrets kept in a short-lived signed cookie of their own
// (path /auth, HttpOnly, Secure, SameSite=Lax, so the provider's redirect back brings it);
// /auth/callback exchanges the code (the client authenticates with its secret), checks the ID
// token and sets the sign-in cookie from its user-name and groups claims. The provider's
// metadata is discovered on first use and kept; until it answers, sign-in says so.
import type { FastifyInstance } from "fastify";
import * as client from "openid-client";
import type { Logger } from "../runtime/index.js";
import type { BrokerMetrics } from "./metrics.js";
import { signStatement, verifyStatement } from "./signed.js";
import { SIGNIN_COOKIE, type SignInCookies } from "./signin.js";

export interface OidcOptions {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The broker's address as browsers reach it: the redirect URI is this + /auth/callback. */
  readonly externalUrl: string;
  /** The claim that names the user (default preferred_username). */
  readonly usernameClaim: string;
  /** The claim that lists the user's groups (default groups). */
  readonly groupsClaim: string;
  /** Scopes asked for besides openid. */
  readonly scopes: readonly string[];
}

const FLOW_COOKIE = "griddesk_oidc";
const FLOW_AUDIENCE = "griddesk-oidc-flow";
const FLOW_TTL_S = 600;

export function registerOidc(
  app: FastifyInstance,
  deps: {
    readonly oidc: OidcOptions;
    readonly signin: SignInCookies;
    readonly key: Uint8Array;
    readonly log: Logger;
    readonly metrics: BrokerMetrics;
    readonly secureCookies: boolean;
  },
): void {
  const { oidc } = deps;
  const redirectUri = new URL("/auth/callback", oidc.externalUrl).toString();
  let discovered: Promise<client.Configuration> | undefined;
  const configuration = (): Promise<client.Configuration> => {
    discovered ??= client
      .discovery(new URL(oidc.issuer), oidc.clientId, oidc.clientSecret)
      .catch((err: unknown) => {
        discovered = undefined; // try again on the next sign-in
        throw err;
      });
    return discovered;
  };
  const flowCookie = { path: "/auth", httpOnly: true, secure: deps.secureCookies, sameSite: "lax" as const };

  app.get("/auth/login", async (_req, reply) => {
    let config: client.Configuration;
    try {
      config = await configuration();
    } catch (err) {
      deps.log.warn(
        { issuer: oidc.issuer, err: err instanceof Error ? err.message : String(err) },
        "identity provider unreachable",
      );
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The identity provider cannot be reached; try again in a moment.\n");
    }
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const url = client.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: ["openid", ...oidc.scopes].join(" "),
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: "S256",
      state,
      nonce,
    });
    const now = Date.now();
    const flow = await signStatement(deps.key, {
      audience: FLOW_AUDIENCE,
      claims: { verifier, state, nonce },
      issuedAt: now,
      expiresAt: now + FLOW_TTL_S * 1000,
    });
    reply.setCookie(FLOW_COOKIE, flow, { ...flowCookie, maxAge: FLOW_TTL_S });
    return reply.redirect(url.toString(), 303);
  });

  app.get("/auth/callback", async (req, reply) => {
    const refuse = (why: string, err?: unknown) => {
      deps.metrics.signIns.inc({ result: "refused" });
      deps.log.info(
        { why, ...(err ? { err: err instanceof Error ? err.message : String(err) } : {}) },
        "OIDC sign-in refused",
      );
      reply.clearCookie(FLOW_COOKIE, { path: "/auth" });
      return reply
        .code(401)
        .type("text/plain; charset=utf-8")
        .send(`Sign-in failed: ${why}. Start again from the portal.\n`);
    };
    let flow: { verifier: string; state: string; nonce: string };
    try {
      const payload = await verifyStatement(
        deps.key,
        FLOW_AUDIENCE,
        req.cookies[FLOW_COOKIE] ?? "",
        Date.now(),
      );
      flow = payload as unknown as typeof flow;
    } catch {
      return refuse("the sign-in took too long or was not started here");
    }
    let claims: Record<string, unknown>;
    try {
      const config = await configuration();
      // The URL the provider redirected to, as the browser saw it (the external address).
      const current = new URL(req.url, oidc.externalUrl);
      const tokens = await client.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: flow.verifier,
        expectedState: flow.state,
        expectedNonce: flow.nonce,
        idTokenExpected: true,
      });
      claims = (tokens.claims() ?? {}) as Record<string, unknown>;
    } catch (err) {
      return refuse("the identity provider's answer was not accepted", err);
    }
    const user = claims[oidc.usernameClaim];
    if (typeof user !== "string" || user === "")
      return refuse(`the ID token has no ${oidc.usernameClaim} claim`);
    const raw = claims[oidc.groupsClaim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === "string") : [];
    deps.metrics.signIns.inc({ result: "success" });
    deps.log.info({ user, groups: groups.length }, "signed in (OIDC)");
    reply.clearCookie(FLOW_COOKIE, { path: "/auth" });
    reply.setCookie(
      SIGNIN_COOKIE,
      await deps.signin.issue({ user, groups }),
      deps.signin.options(deps.secureCookies),
    );
    return reply.redirect("/", 303);
  });
}
