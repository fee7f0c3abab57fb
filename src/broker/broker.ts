// `griddesk broker`: the users' way in. Stateless, so any number of replicas serve behind one
// Service: cookies and tickets are signed with a key every replica holds, and a ticket's use is
// recorded on its session. Serves the portal's API and the console WebSocket on its HTTPS
// address (fastify; the upgrade is taken off fastify's server before it routes), and /healthz,
// /readyz and /metrics on a separate one (as the controller does).
import { readFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import cookie from "@fastify/cookie";
import type { KubeConfig } from "@kubernetes/client-node";
import Fastify, { type FastifyInstance } from "fastify";
import { FieldManagers, type Desktop, type DesktopPool, type DesktopSession } from "../api/index.js";
import type { ConsoleSecretObject } from "../console/secret.js";
import { Resources } from "../controllers/shared/resources.js";
import { HealthServer, Informer, newWatch, ObjectClient, RestClient, type Logger } from "../runtime/index.js";
import { ConsoleRelay } from "./console-relay.js";
import { BrokerMetrics } from "./metrics.js";
import { registerOidc, type OidcOptions } from "./oidc.js";
import { registerPage } from "./page.js";
import { registerPortal } from "./portal.js";
import { SessionFeed } from "./session-feed.js";
import { SignInCookies } from "./signin.js";
import type { StaticUsers } from "./static-users.js";
import { TicketBook } from "./tickets.js";

export interface BrokerOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly listen: { readonly host?: string; readonly port: number };
  /** PEM files; without them the broker speaks plain HTTP (only behind a TLS-terminating proxy). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly health: { readonly host?: string; readonly port: number };
  /** The key cookies and tickets are signed with: the same bytes on every replica. */
  readonly signingKey: Uint8Array;
  readonly ticketTtlMs: number;
  readonly signInTtlMs?: number;
  /** Where the agents keep the desktops' console Secrets. */
  readonly secretNamespace: string;
  readonly staticUsers?: StaticUsers;
  readonly oidc?: OidcOptions;
  readonly processMetrics?: boolean;
}

export interface Broker {
  readonly port: number;
  readonly healthPort: number;
  close(): Promise<void>;
}

export async function startBroker(o: BrokerOptions): Promise<Broker> {
  const rest = new RestClient(o.kubeConfig);
  const fieldManager = { fieldManager: FieldManagers.Broker };
  const sessions = new ObjectClient<DesktopSession>(rest, Resources.DesktopSession, fieldManager);
  const desktops = new ObjectClient<Desktop>(rest, Resources.Desktop, fieldManager);
  const metrics = new BrokerMetrics({ processMetrics: o.processMetrics ?? true });
  const sessionInformer = new Informer<DesktopSession>(rest, newWatch(o.kubeConfig), {
    resource: Resources.DesktopSession,
    logger: o.logger,
  });
  sessionInformer.start();
  const feed = new SessionFeed(sessionInformer);
  const tickets = new TicketBook(o.signingKey, o.ticketTtlMs);
  const signin = new SignInCookies(o.signingKey, o.signInTtlMs);
  const relay = new ConsoleRelay({
    tickets,
    signin,
    sessions,
    desktops,
    secrets: new ObjectClient<ConsoleSecretObject>(rest, Resources.Secret, fieldManager),
    secretNamespace: o.secretNamespace,
    log: o.logger.child({ component: "console" }),
    metrics,
  });
  // fastify's own request log would write URLs, and the console's URL carries a ticket: off.
  const app = (o.tls
    ? Fastify({
        logger: false,
        https: { cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) },
      })
    : Fastify({ logger: false })) as unknown as FastifyInstance;
  await app.register(cookie);
  await registerPage(app);
  registerPortal(app, {
    signin,
    ...(o.staticUsers ? { users: o.staticUsers } : {}),
    oidc: Boolean(o.oidc),
    tickets,
    pools: new ObjectClient<DesktopPool>(rest, Resources.DesktopPool, fieldManager),
    sessions,
    desktops,
    feed,
    log: o.logger.child({ component: "portal" }),
    metrics,
    secureCookies: true,
  });
  if (o.oidc)
    registerOidc(app, {
      oidc: o.oidc,
      signin,
      key: o.signingKey,
      log: o.logger.child({ component: "oidc" }),
      metrics,
      secureCookies: true,
    });
  app.server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (relay.handles(req)) return void relay.upgrade(req, socket, head);
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  await app.listen({ port: o.listen.port, host: o.listen.host ?? "0.0.0.0" });
  const port = (app.server.address() as AddressInfo).port;
  const health = new HealthServer({
    port: o.health.port,
    ...(o.health.host ? { host: o.health.host } : {}),
    registry: metrics.registry,
    logger: o.logger,
  });
  health.addReadyzCheck("sessions-synced", () => feed.synced());
  const healthPort = await health.listen();
  o.logger.info({ port, tls: Boolean(o.tls), healthPort }, "broker listening");
  return {
    port,
    healthPort,
    async close() {
      relay.close();
      await sessionInformer.stop();
      await app.close();
      await health.close();
    },
  };
}
