// The console WebSocket: `GET /console?ticket=…` with an upgrade. Everything is checked before
// the upgrade, and a refusal is a plain HTTP answer: the ticket (signature, expiry), the session
// (the ticket's user's, Ready, on the ticket's desktop), the ticket's single use (recorded on the
// session), then the desktop's VNC server is dialled and authenticated with the desktop's password
// from its console Secret. Only then is the browser's connection upgraded; it is greeted as an
// RFB server with no authentication and from ClientInit on the bytes are relayed both ways.
// The page never learns the VNC address or password. The URL carries the ticket: it is never
// logged, and nothing logged or answered quotes it.
import { STATUS_CODES, type IncomingMessage } from "node:http";
import { connect, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { fastifyCookie } from "@fastify/cookie";
import { WebSocketServer, type RawData, type WebSocket } from "ws";
import { toKubeTime, type Desktop, type DesktopSession } from "../api/index.js";
import { consoleSecretName, passwordOf, type ConsoleSecretObject } from "../console/secret.js";
import { authenticateToServer, ByteQueue, greetClient, RfbError } from "../console/rfb.js";
import type { Logger, ObjectClient } from "../runtime/index.js";
import type { BrokerMetrics } from "./metrics.js";
import { redeem } from "./redeem.js";
import { ConsoleRefused, REFUSAL_STATUS } from "./refusals.js";
import { SIGNIN_COOKIE, type SignInCookies } from "./signin.js";
import type { TicketBook, VerifiedTicket } from "./tickets.js";

export const CONSOLE_PATH = "/console";
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Past this many bytes queued towards the browser the desktop's socket is paused. */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

export interface ConsoleRelayDeps {
  readonly tickets: TicketBook;
  /** The sign-in cookie the browser sends with the upgrade: it must name the ticket's user. */
  readonly signin: SignInCookies;
  readonly sessions: ObjectClient<DesktopSession>;
  readonly desktops: ObjectClient<Desktop>;
  readonly secrets: ObjectClient<ConsoleSecretObject>;
  /** Where the agents keep the desktops' console Secrets (the broker's namespace). */
  readonly secretNamespace: string;
  readonly log: Logger;
  readonly metrics: BrokerMetrics;
  readonly now?: () => number;
  readonly handshakeTimeoutMs?: number;
}

interface Upstream {
  readonly socket: Socket;
  readonly queue: ByteQueue;
}

export class ConsoleRelay {
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly open = new Set<WebSocket>();
  private readonly now: () => number;
  private readonly timeoutMs: number;

  constructor(private readonly deps: ConsoleRelayDeps) {
    this.now = deps.now ?? Date.now;
    this.timeoutMs = deps.handshakeTimeoutMs ?? HANDSHAKE_TIMEOUT_MS;
  }

  /** True for the console's path: the caller hands such upgrades to `upgrade`. */
  handles(req: IncomingMessage): boolean {
    return new URL(req.url ?? "/", "http://broker").pathname === CONSOLE_PATH;
  }

  /** Checks everything, then upgrades and relays; or answers the refusal and closes. */
  async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const started = this.now();
    let ticket: VerifiedTicket | undefined;
    let upstream: Upstream | undefined;
    socket.on("error", () => socket.destroy());
    try {
      ticket = await this.verify(req);
      // The ticket's user must be the one signed in: a ticket that leaked is worth nothing
      // without its user's cookie, and is not used up by whoever tried it.
      const cookies = fastifyCookie.parse(req.headers.cookie ?? "");
      const identity = await this.deps.signin.verify(cookies[SIGNIN_COOKIE]);
      if (!identity) throw new ConsoleRefused("SignedOut", "sign in first");
      if (identity.user !== ticket.user)
        throw new ConsoleRefused("Forbidden", "this console ticket is not yours");
      await redeem(this.deps.sessions, ticket, this.now);
      upstream = await this.dial(ticket);
      if (socket.destroyed) throw new ConsoleRefused("Unreachable", "the browser went away");
      const up = upstream;
      const t = ticket;
      this.wss.handleUpgrade(req, socket, head, (ws) => void this.relay(ws, up, t, started));
    } catch (err) {
      upstream?.socket.destroy();
      this.refuse(socket, err, ticket);
    }
  }

  /** Closes every relayed console (the broker is stopping). */
  close(): void {
    for (const ws of this.open) ws.terminate();
    this.wss.close();
  }

  private async verify(req: IncomingMessage): Promise<VerifiedTicket> {
    return this.deps.tickets.verify(new URL(req.url ?? "/", "http://broker").searchParams.get("ticket"));
  }

  /** The desktop's VNC server, authenticated with its password, waiting for ClientInit. */
  private async dial(t: VerifiedTicket): Promise<Upstream> {
    const desktop = await this.deps.desktops.tryGet({ namespace: t.namespace, name: t.desktop });
    if (desktop === undefined || desktop.metadata.uid !== t.desktopUid)
      throw new ConsoleRefused("SessionGone", "the desktop of this console ticket no longer exists");
    const endpoint = desktop.status?.endpoint;
    if (endpoint?.kubevirt)
      throw new ConsoleRefused("Unsupported", "consoles of KubeVirt desktops are not relayed yet");
    if (endpoint?.protocol !== "vnc" || !endpoint.host || !endpoint.port)
      throw new ConsoleRefused("NotReady", "the desktop has no VNC console");
    const secret = await this.deps.secrets.tryGet({
      namespace: this.deps.secretNamespace,
      name: consoleSecretName(t.desktopUid),
    });
    const password = secret ? passwordOf(secret) : undefined;
    const socket = connect({ host: endpoint.host, port: endpoint.port });
    const queue = new ByteQueue();
    socket.on("data", (chunk: Buffer) => queue.push(chunk));
    socket.on("error", (err) => queue.end(err));
    socket.on("close", () => queue.end(new RfbError("the VNC server closed the connection")));
    try {
      await withTimeout(
        authenticateToServer(queue, (b) => socket.write(b), password),
        this.timeoutMs,
        "the VNC server did not complete its handshake",
      );
    } catch (err) {
      socket.destroy();
      this.deps.log.warn(
        { namespace: t.namespace, desktop: t.desktop, err: err instanceof Error ? err.message : String(err) },
        "the desktop's VNC server could not be reached or refused the broker",
      );
      throw new ConsoleRefused("Unreachable", "the desktop's console did not answer; try again in a moment");
    }
    socket.removeAllListeners("data");
    return { socket, queue };
  }

  private async relay(ws: WebSocket, up: Upstream, t: VerifiedTicket, started: number): Promise<void> {
    const who = { user: t.user, namespace: t.namespace, session: t.session, desktop: t.desktop };
    const fromBrowser = new ByteQueue();
    let toDesktop: ((b: Buffer) => void) | undefined = undefined; // set once the handshake is over
    ws.on("message", (data: RawData) => {
      const b = asBuffer(data);
      if (toDesktop) toDesktop(b);
      else fromBrowser.push(b);
    });
    const closed = new Promise<void>((resolve) => {
      ws.once("close", () => resolve());
      up.socket.once("close", () => resolve());
    });
    ws.once("close", () => fromBrowser.end(new RfbError("the browser closed the console")));
    try {
      await withTimeout(
        greetClient(fromBrowser, (b) => ws.send(b)),
        this.timeoutMs,
        "the browser did not complete its handshake",
      );
    } catch (err) {
      this.deps.log.info(
        { ...who, err: err instanceof Error ? err.message : String(err) },
        "console handshake failed",
      );
      ws.close(1002, "RFB handshake failed");
      up.socket.destroy();
      return;
    }
    // Relay: what either side sent beyond the handshake first, then everything as it comes.
    toDesktop = (b) => {
      if (!up.socket.write(b)) {
        ws.pause();
        up.socket.once("drain", () => ws.resume());
      }
    };
    const early = fromBrowser.drain();
    if (early.length > 0) toDesktop(early);
    const toBrowser = (b: Buffer): void => {
      ws.send(b, () => {
        if (ws.bufferedAmount < HIGH_WATER_BYTES && up.socket.isPaused()) up.socket.resume();
      });
      if (ws.bufferedAmount >= HIGH_WATER_BYTES) up.socket.pause();
    };
    const pending = up.queue.drain();
    if (pending.length > 0) toBrowser(pending);
    up.socket.on("data", toBrowser);
    up.socket.on("error", () => up.socket.destroy());
    ws.on("error", () => ws.terminate());

    this.open.add(ws);
    this.deps.metrics.consolesOpened.inc();
    this.deps.metrics.consolesActive.inc();
    this.deps.metrics.consoleConnectSeconds.observe((this.now() - started) / 1000);
    this.deps.log.info(who, "console opened");
    await this.markConnected(t, true);
    await closed;
    up.socket.destroy();
    if (ws.readyState === ws.OPEN) ws.close(1000, "the desktop's console closed");
    this.open.delete(ws);
    this.deps.metrics.consolesActive.dec();
    this.deps.log.info(who, "console closed");
    await this.markConnected(t, false);
  }

  /**
   * status.connected and its time, so a reconnect finds the running session and the disconnected
   * timeout (to come) can fire. Best effort: a failed write is logged, the console goes on.
   */
  private async markConnected(t: VerifiedTicket, connected: boolean): Promise<void> {
    const at = toKubeTime(new Date(this.now()));
    try {
      await this.deps.sessions.mergePatch(
        { namespace: t.namespace, name: t.session },
        { status: { connected, console: connected ? { connectedAt: at } : { disconnectedAt: at } } },
        { subresource: "status" },
      );
    } catch (err) {
      this.deps.log.warn(
        { namespace: t.namespace, session: t.session, err: err instanceof Error ? err.message : String(err) },
        "could not record the console's connection on the session",
      );
    }
  }

  private refuse(socket: Duplex, err: unknown, t: VerifiedTicket | undefined): void {
    const refused =
      err instanceof ConsoleRefused
        ? err
        : new ConsoleRefused("Unreachable", "the console could not be opened; try again in a moment");
    if (!(err instanceof ConsoleRefused))
      this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, "console failed");
    const status = REFUSAL_STATUS[refused.reason];
    this.deps.metrics.refused(refused.reason);
    this.deps.log.info(
      {
        reason: refused.reason,
        status,
        ...(t ? { user: t.user, namespace: t.namespace, session: t.session } : {}),
      },
      "console refused",
    );
    if (socket.destroyed) return;
    const body = `${refused.message}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ""}\r\n` +
        "Content-Type: text/plain; charset=utf-8\r\n" +
        `Content-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Griddesk-Refusal: ${refused.reason}\r\n` +
        "Connection: close\r\n\r\n" +
        body,
    );
  }
}

function asBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

async function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RfbError(message)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
