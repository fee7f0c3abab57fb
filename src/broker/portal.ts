// The portal's API, which the page calls: sign in and out, the pools the user is entitled to,
// connect (create the user's session in a pool, or find the running one: closing the tab is a
// disconnect, not a logoff), the session's progress as Server-Sent Events, a console ticket, and
// logoff. Every route but sign-in needs the sign-in cookie; a session that is not the caller's is
// answered exactly as one that does not exist. State-changing requests must be JSON from this
// origin (a cross-site form cannot send JSON, and SameSite=Lax keeps the cookie off others).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Desktop, DesktopPool, DesktopSession } from "../api/index.js";
import { ConflictError, type Cached, type Logger, type ObjectClient } from "../runtime/index.js";
import { entitled, finished, poolView, sessionNameFor, sessionView } from "./entitlements.js";
import type { BrokerMetrics } from "./metrics.js";
import type { SessionFeed } from "./session-feed.js";
import { SIGNIN_COOKIE, type Identity, type SignInCookies } from "./signin.js";
import type { StaticUsers } from "./static-users.js";
import type { TicketBook } from "./tickets.js";
import { CONSOLE_PATH } from "./console-relay.js";

export interface PortalDeps {
  readonly signin: SignInCookies;
  /** Static users (labs); without them only OIDC signs users in. */
  readonly users?: StaticUsers;
  /** Whether /auth/login signs users in with OpenID Connect. */
  readonly oidc: boolean;
  readonly tickets: TicketBook;
  readonly pools: ObjectClient<DesktopPool>;
  readonly sessions: ObjectClient<DesktopSession>;
  readonly desktops: ObjectClient<Desktop>;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
  /** Cookies marked Secure (the broker serves HTTPS, itself or behind a proxy). */
  readonly secureCookies: boolean;
  /** The broker's watch on sessions, which progress streams listen to. */
  readonly feed: SessionFeed;
}

const NOT_ENTITLED =
  "You are not entitled to any desktop pool yet. Ask your administrator to add you (or one of your " +
  "groups) to a pool's access list.";
const NO_SESSION = "no such session";
const FINISHED_WAIT_MS = 20_000;
const TERMINAL = new Set(["Ready", "Ended", "Failed"]);
const PHASE_RANK: Record<string, number> = { Pending: 0, Bound: 1, Ready: 2, Ending: 3, Ended: 4, Failed: 4 };
const phaseRank = (s: Cached<DesktopSession>): number =>
  s.metadata.deletionTimestamp ? 3 : (PHASE_RANK[s.status?.phase ?? "Pending"] ?? 0);

type Params = { namespace: string; name: string };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function registerPortal(app: FastifyInstance, deps: PortalDeps): void {
  const identities = new WeakMap<FastifyRequest, Identity>();
  const who = (req: FastifyRequest): Identity => {
    const id = identities.get(req);
    if (!id) throw new HttpError(401, "sign in first");
    return id;
  };

  app.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: err.message });
    if (err.statusCode && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: err.message });
    deps.log.error({ err: err.message, route: req.routeOptions.url }, "portal request failed");
    return reply.code(500).send({ error: "the broker could not do that; try again in a moment" });
  });

  app.addHook("onRequest", async (req) => {
    if (!req.url.startsWith("/api/")) return;
    if (req.method !== "GET" && req.method !== "HEAD") {
      // By host, not scheme: behind a proxy that terminates TLS the broker itself sees plain HTTP.
      const origin = req.headers.origin;
      if (origin !== undefined && hostOf(origin) !== req.headers.host)
        throw new HttpError(403, "cross-origin requests are refused");
      if (!String(req.headers["content-type"] ?? "").startsWith("application/json"))
        throw new HttpError(415, "send JSON (Content-Type: application/json)");
    }
    const identity = await deps.signin.verify(req.cookies[SIGNIN_COOKIE]);
    if (identity) identities.set(req, identity);
  });

  // What the sign-in page offers.
  app.get("/api/config", async () => ({ staticUsers: Boolean(deps.users), oidc: deps.oidc }));

  app.post<{ Body: { user?: unknown; password?: unknown } }>("/api/signin", async (req, reply) => {
    const { user, password } = req.body ?? {};
    if (!deps.users)
      throw new HttpError(404, "static sign-in is not enabled; sign in with your identity provider");
    if (typeof user !== "string" || typeof password !== "string" || !user || !password)
      throw new HttpError(400, "user and password are required");
    const identity = await deps.users.signIn(user, password);
    deps.metrics.signIns.inc({ result: identity ? "success" : "refused" });
    if (!identity) {
      deps.log.info({ user }, "sign-in refused");
      throw new HttpError(401, "wrong user name or password");
    }
    deps.log.info({ user: identity.user }, "signed in");
    reply.setCookie(
      SIGNIN_COOKIE,
      await deps.signin.issue(identity),
      deps.signin.options(deps.secureCookies),
    );
    return { user: identity.user, groups: identity.groups };
  });

  app.post("/api/signout", async (_req, reply) => {
    reply.clearCookie(SIGNIN_COOKIE, { path: "/" });
    return reply.code(204).send();
  });

  app.get("/api/me", async (req) => {
    const id = who(req);
    return { user: id.user, groups: id.groups };
  });

  app.get("/api/pools", async (req) => {
    const id = who(req);
    const pools = (await deps.pools.list()).filter((p) => entitled(p, id));
    const views = await Promise.all(
      pools.map(async (p) =>
        poolView(
          p,
          await deps.sessions.tryGet({
            namespace: p.metadata.namespace as string,
            name: sessionNameFor(p.metadata.name as string, id.user),
          }),
        ),
      ),
    );
    views.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
    return views.length > 0 ? { pools: views } : { pools: [], message: NOT_ENTITLED };
  });

  app.post<{ Params: Params }>("/api/pools/:namespace/:name/connect", async (req, reply) => {
    const id = who(req);
    const pool = await deps.pools.tryGet(req.params);
    if (!pool || !entitled(pool, id)) throw new HttpError(404, "no such pool");
    const key = { namespace: req.params.namespace, name: sessionNameFor(req.params.name, id.user) };
    for (const deadline = Date.now() + FINISHED_WAIT_MS; ;) {
      const existing = await deps.sessions.tryGet(key);
      if (existing && existing.spec.user !== id.user)
        throw new HttpError(409, "a session of this name is someone else's");
      if (existing && !finished(existing)) {
        deps.log.info({ user: id.user, ...key }, "reconnecting to the running session");
        return { session: sessionView(existing), reconnected: true };
      }
      if (existing) {
        // An ended session keeps its name until it is deleted: clear it, then log on anew.
        if (!existing.metadata.deletionTimestamp) await deps.sessions.delete(key);
        if (Date.now() > deadline)
          throw new HttpError(503, "your previous session is still ending; try again");
        await new Promise((r) => setTimeout(r, 300));
        continue;
      }
      try {
        const created = await deps.sessions.create({
          apiVersion: "griddesk.io/v1alpha1",
          kind: "DesktopSession",
          metadata: key,
          spec: {
            poolRef: req.params.name,
            user: id.user,
            clientInfo: {
              address: req.ip.slice(0, 64),
              userAgent: String(req.headers["user-agent"] ?? "").slice(0, 256),
            },
          },
        });
        deps.metrics.logons.inc();
        deps.log.info({ user: id.user, ...key }, "logged on: session created");
        return reply.code(201).send({ session: sessionView(created), reconnected: false });
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err; // AlreadyExists: another replica made it
      }
    }
  });

  const ownSession = async (req: FastifyRequest<{ Params: Params }>): Promise<DesktopSession> => {
    const id = who(req);
    const session = await deps.sessions.tryGet(req.params);
    if (!session || session.spec.user !== id.user) throw new HttpError(404, NO_SESSION);
    return session;
  };

  app.get<{ Params: Params }>("/api/sessions/:namespace/:name", async (req) => ({
    session: sessionView(await ownSession(req)),
  }));

  // Progress until the session is Ready (or over): one event per change, as Server-Sent Events.
  app.get<{ Params: Params }>("/api/sessions/:namespace/:name/progress", async (req, reply) => {
    const own = await ownSession(req); // read from the API server: whose it is is never judged on a cache
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    let last = "";
    let shown: Cached<DesktopSession> = own;
    /** Sends the session's view if it changed; true once there is nothing more to wait for. */
    const send = (s: Cached<DesktopSession> | undefined): boolean => {
      const view = s ? sessionView(s) : { ...req.params, phase: "Ended", message: "the session is gone" };
      const text = JSON.stringify(view);
      if (text !== last) res.write(`event: session\ndata: ${text}\n\n`);
      last = text;
      if (s) shown = s;
      return !s || TERMINAL.has(view.phase);
    };
    if (!send(own))
      await new Promise<void>((resolve) => {
        const keepAlive = setInterval(() => res.write(": still waiting\n\n"), 15_000);
        const done = (): void => {
          stop();
          clearInterval(keepAlive);
          resolve();
        };
        const stop = deps.feed.subscribe(req.params, (s) => {
          if (send(s)) done();
        });
        req.raw.once("close", done);
        // A change between the read above and the subscription is in the cache already.
        const cached = deps.feed.get(req.params);
        if (cached && phaseRank(cached) > phaseRank(shown) && send(cached)) done();
      });
    res.end();
  });

  app.post<{ Params: Params }>("/api/sessions/:namespace/:name/ticket", async (req, reply) => {
    const session = await ownSession(req);
    if (session.status?.phase !== "Ready" || !session.status.desktopRef)
      throw new HttpError(409, `the session is ${session.status?.phase ?? "Pending"}, not Ready`);
    const desktop = await deps.desktops.tryGet({
      namespace: req.params.namespace,
      name: session.status.desktopRef,
    });
    if (!desktop) throw new HttpError(409, "the session's desktop is gone");
    const issued = await deps.tickets.issue({
      user: session.spec.user,
      namespace: req.params.namespace,
      session: req.params.name,
      sessionUid: session.metadata.uid as string,
      desktop: desktop.metadata.name as string,
      desktopUid: desktop.metadata.uid as string,
    });
    reply.header("Cache-Control", "no-store");
    return {
      ticket: issued.ticket,
      expiresAt: new Date(issued.expiresAt).toISOString(),
      path: `${CONSOLE_PATH}?ticket=${encodeURIComponent(issued.ticket)}`,
    };
  });

  app.post<{ Params: Params }>("/api/sessions/:namespace/:name/logoff", async (req, reply) => {
    const session = await ownSession(req);
    await deps.sessions.delete(req.params);
    deps.log.info({ user: session.spec.user, ...req.params }, "logged off");
    return reply.code(202).send({ session: { ...sessionView(session), phase: "Ending" } });
  });
}

/** The host[:port] of an Origin header, or undefined for "null" or garbage. */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}
