// `griddesk broker`: the users' way in. Stateless, so any number of replicas serve behind one
// Service: tickets are verified with a key every replica holds and their use is recorded on the
// session. Serves the console WebSocket on its HTTPS address, and /healthz, /readyz and /metrics
// on a separate one (as the controller does).
import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { KubeConfig } from "@kubernetes/client-node";
import { FieldManagers, type Desktop, type DesktopSession } from "../api/index.js";
import type { ConsoleSecretObject } from "../console/secret.js";
import { Resources } from "../controllers/shared/resources.js";
import { HealthServer, ObjectClient, RestClient, type Logger } from "../runtime/index.js";
import { ConsoleRelay } from "./console-relay.js";
import { BrokerMetrics } from "./metrics.js";
import { TicketBook } from "./tickets.js";

export interface BrokerOptions {
  readonly kubeConfig: KubeConfig;
  readonly logger: Logger;
  readonly listen: { readonly host?: string; readonly port: number };
  /** PEM files; without them the broker speaks plain HTTP (only behind a TLS-terminating proxy). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  readonly health: { readonly host?: string; readonly port: number };
  /** The key tickets are signed with: the same bytes on every replica. */
  readonly ticketKey: Uint8Array;
  readonly ticketTtlMs: number;
  /** Where the agents keep the desktops' console Secrets. */
  readonly secretNamespace: string;
  readonly processMetrics?: boolean;
}

export interface Broker {
  readonly port: number;
  readonly healthPort: number;
  readonly tickets: TicketBook;
  close(): Promise<void>;
}

export async function startBroker(o: BrokerOptions): Promise<Broker> {
  const rest = new RestClient(o.kubeConfig);
  const fieldManager = { fieldManager: FieldManagers.Broker };
  const metrics = new BrokerMetrics({ processMetrics: o.processMetrics ?? true });
  const tickets = new TicketBook(o.ticketKey, o.ticketTtlMs);
  const relay = new ConsoleRelay({
    tickets,
    sessions: new ObjectClient<DesktopSession>(rest, Resources.DesktopSession, fieldManager),
    desktops: new ObjectClient<Desktop>(rest, Resources.Desktop, fieldManager),
    secrets: new ObjectClient<ConsoleSecretObject>(rest, Resources.Secret, fieldManager),
    secretNamespace: o.secretNamespace,
    log: o.logger.child({ component: "console" }),
    metrics,
  });
  const handler = (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" }).end("not found\n");
  };
  const server: Server = o.tls
    ? createHttpsServer({ cert: readFileSync(o.tls.certFile), key: readFileSync(o.tls.keyFile) }, handler)
    : createHttpServer(handler);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (relay.handles(req)) return void relay.upgrade(req, socket, head);
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  });
  // A client that resets its connection must not take the process with it.
  server.on("clientError", (_err, socket: Duplex) => socket.destroy());
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.listen.port, o.listen.host ?? "0.0.0.0", () =>
      resolve((server.address() as AddressInfo).port),
    );
  });
  const health = new HealthServer({
    port: o.health.port,
    ...(o.health.host ? { host: o.health.host } : {}),
    registry: metrics.registry,
    logger: o.logger,
  });
  const healthPort = await health.listen();
  o.logger.info({ port, tls: Boolean(o.tls), healthPort }, "broker listening");
  return {
    port,
    healthPort,
    tickets,
    async close() {
      relay.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await health.close();
    },
  };
}
