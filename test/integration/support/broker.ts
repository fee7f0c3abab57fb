// The broker in tests: `griddesk broker` as a real process on loopback with a TLS certificate made
// by openssl for 127.0.0.1, a ticket key shared by its replicas, and an RFB client that speaks
// to it over a WebSocket as noVNC would (security type None: the broker holds the password).
import { execFileSync } from "node:child_process";
import { request as httpsRequest } from "node:https";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import WebSocket from "ws";
import { ByteQueue, RFB_VERSION_3_8, SecurityType } from "../../../src/console/rfb.js";
import { eventually } from "./cluster.js";
import { startGriddesk, startProcess, type GriddeskProcess } from "./processes.js";

export interface BrokerCredentials {
  readonly dir: string;
  readonly certFile: string;
  readonly keyFile: string;
  readonly signingKeyFile: string;
  readonly ca: Buffer;
  readonly signingKey: Buffer;
}

/** A self-signed certificate for 127.0.0.1 and localhost, and a 32-byte ticket key. */
export function brokerCredentials(): BrokerCredentials {
  const dir = mkdtempSync(path.join(tmpdir(), "griddesk-broker-"));
  const certFile = path.join(dir, "tls.crt");
  const keyFile = path.join(dir, "tls.key");
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"],
      ...["-keyout", keyFile, "-out", certFile, "-days", "2", "-subj", "/CN=griddesk-broker-test"],
      ...["-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
    ],
    { stdio: "ignore" },
  );
  const signingKey = randomBytes(32);
  const signingKeyFile = path.join(dir, "signing.key");
  writeFileSync(signingKeyFile, signingKey, { mode: 0o600 });
  return { dir, certFile, keyFile, signingKeyFile, ca: readFileSync(certFile), signingKey };
}

export interface RunningBroker {
  readonly process: GriddeskProcess;
  readonly port: number;
  readonly healthPort: number;
  readonly url: string;
}

export async function startBrokerProcess(
  name: string,
  creds: BrokerCredentials,
  opts: {
    secretNamespace: string;
    ticketTtlSeconds?: number;
    staticUsersFile?: string;
    port?: number;
    oidc?: { issuer: string; clientSecretFile: string; externalUrl: string };
  },
): Promise<RunningBroker> {
  const proc = startGriddesk(name, [
    "broker",
    ...["--bind-address", `127.0.0.1:${opts.port ?? 0}`, "--health-probe-bind-address", "127.0.0.1:0"],
    ...["--tls-cert-file", creds.certFile, "--tls-key-file", creds.keyFile],
    ...["--signing-key-file", creds.signingKeyFile, "--console-secret-namespace", opts.secretNamespace],
    ...["--ticket-ttl", String(opts.ticketTtlSeconds ?? 30), "--identity", name],
    ...(opts.staticUsersFile ? ["--static-users-file", opts.staticUsersFile] : []),
    ...(opts.oidc
      ? [
          ...["--oidc-issuer", opts.oidc.issuer, "--oidc-client-secret-file", opts.oidc.clientSecretFile],
          ...["--external-url", opts.oidc.externalUrl],
        ]
      : []),
  ]);
  const { port, healthPort } = await listeningLine<{ port: number; healthPort: number }>(proc, (line) =>
    line.includes('"broker listening"'),
  );
  return { process: proc, port, healthPort, url: `https://127.0.0.1:${port}` };
}

export interface Refusal {
  readonly status: number;
  readonly reason: string | undefined;
  readonly body: string;
}

export interface Framebuffer {
  readonly width: number;
  readonly height: number;
  readonly name: string;
  /** A full-screen update's first rectangle arrived (the desktop's pixels flow through). */
  readonly firstUpdateBytes: number;
  close(): void;
}

/** Opens the console WebSocket; resolves once open, or to the HTTP refusal. */
export function openConsole(
  url: string,
  ca: Buffer,
  ticket: string | undefined,
  signInCookie?: string,
): Promise<{ ws: WebSocket } | { refused: Refusal }> {
  const target = `${url.replace(/^http/, "ws")}/console${ticket === undefined ? "" : `?ticket=${encodeURIComponent(ticket)}`}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, {
      ca,
      handshakeTimeout: 20_000,
      ...(signInCookie ? { headers: { Cookie: `griddesk_signin=${signInCookie}` } } : {}),
    });
    ws.binaryType = "nodebuffer";
    ws.once("open", () => resolve({ ws }));
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString("utf8")));
      res.on("end", () =>
        resolve({
          refused: {
            status: res.statusCode ?? 0,
            reason: res.headers["x-griddesk-refusal"] as string | undefined,
            body,
          },
        }),
      );
    });
    ws.once("error", reject);
  });
}

/**
 * The RFB client side over an open console WebSocket: version, security None, ClientInit
 * (shared), ServerInit, then one full FramebufferUpdateRequest answered by a FramebufferUpdate.
 */
export async function rfbSession(ws: WebSocket): Promise<Framebuffer> {
  const q = new ByteQueue();
  ws.on("message", (data: Buffer) => q.push(Buffer.from(data)));
  ws.once("close", () => q.end(new Error("the console closed")));
  const send = (b: Buffer) => ws.send(b);
  const version = (await q.read(12)).toString("latin1");
  if (version !== RFB_VERSION_3_8) throw new Error(`unexpected RFB version ${JSON.stringify(version)}`);
  send(Buffer.from(RFB_VERSION_3_8, "latin1"));
  const count = (await q.read(1))[0] as number;
  const types = [...(await q.read(count))];
  if (!types.includes(SecurityType.None)) throw new Error(`the broker offered ${types.join(",")}, not None`);
  send(Buffer.from([SecurityType.None]));
  const result = (await q.read(4)).readUInt32BE(0);
  if (result !== 0) throw new Error(`security result ${result}`);
  send(Buffer.from([1])); // ClientInit: shared
  const init = await q.read(24);
  const width = init.readUInt16BE(0);
  const height = init.readUInt16BE(2);
  const name = (await q.read(init.readUInt32BE(20))).toString("utf8");
  // FramebufferUpdateRequest: not incremental, the whole screen.
  const req = Buffer.alloc(10);
  req.writeUInt8(3, 0);
  req.writeUInt8(0, 1);
  req.writeUInt16BE(width, 6);
  req.writeUInt16BE(height, 8);
  send(req);
  const header = await q.read(4); // type 0, padding, number of rectangles
  if (header[0] !== 0) throw new Error(`expected a FramebufferUpdate, got message type ${header[0]}`);
  const rect = await q.read(12); // x, y, w, h, encoding
  const encoding = rect.readInt32BE(8);
  const bytesPerPixel = (init[4] as number) / 8;
  const rw = rect.readUInt16BE(4);
  const rh = rect.readUInt16BE(6);
  // Raw encoding (0) is what a client that asks for nothing else gets: w × h pixels.
  const firstUpdateBytes = encoding === 0 ? (await q.read(rw * rh * bytesPerPixel)).length : 0;
  return { width, height, name, firstUpdateBytes, close: () => ws.close() };
}

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: Record<string, unknown>;
}

/**
 * A browser's view of the portal API: HTTPS with the test CA, a cookie jar of one cookie, JSON
 * bodies, and the page's own Origin. Requests can go to any replica (`base` per call).
 */
export class PortalClient {
  cookie: string | undefined;

  constructor(
    readonly base: string,
    private readonly ca: Buffer,
  ) {}

  request(
    method: string,
    path: string,
    body?: unknown,
    opts: { base?: string; headers?: Record<string, string>; raw?: string } = {},
  ): Promise<Reply> {
    const url = new URL(path, opts.base ?? this.base);
    const payload = opts.raw ?? (body === undefined ? undefined : JSON.stringify(body));
    const headers: Record<string, string> = {
      ...(payload !== undefined && opts.raw === undefined ? { "content-type": "application/json" } : {}),
      ...(this.cookie ? { cookie: this.cookie } : {}),
      origin: url.origin,
      ...opts.headers,
    };
    return new Promise((resolve, reject) => {
      const req = httpsRequest(url, { method, headers, ca: this.ca }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => {
          const set = res.headers["set-cookie"]?.find((c) => c.startsWith("griddesk_signin="));
          if (set) this.cookie = set.split(";")[0];
          let json: Record<string, unknown> = {};
          try {
            json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
          } catch {
            // not JSON (an event stream)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      });
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  signIn(user: string, password: string, base?: string): Promise<Reply> {
    return this.request("POST", "/api/signin", { user, password }, base ? { base } : {});
  }
}

/**
 * The lab OpenID Connect provider (hack/lab-idp.ts: the `oidc-provider` package) as a process on
 * loopback over HTTPS with the broker's test certificate, the users of `usersFile`, and the
 * broker as its one client. Processes that talk to it need NODE_EXTRA_CA_CERTS=creds.certFile.
 */
export async function startLabIdp(
  name: string,
  creds: BrokerCredentials,
  opts: { usersFile: string; redirectUri: string },
): Promise<{ process: GriddeskProcess; issuer: string; clientSecretFile: string }> {
  const clientSecretFile = path.join(creds.dir, "oidc-client-secret");
  writeFileSync(clientSecretFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
  const repo = new URL("../../../", import.meta.url).pathname;
  const proc = startProcess(name, path.join(repo, "node_modules/.bin/node"), [
    ...["--import", "tsx", path.join(repo, "hack/lab-idp.ts")],
    ...["--port", "0", "--tls-cert-file", creds.certFile, "--tls-key-file", creds.keyFile],
    ...["--users-file", opts.usersFile, "--client-secret-file", clientSecretFile],
    ...["--redirect-uri", opts.redirectUri],
  ]);
  const { issuer } = await listeningLine<{ issuer: string }>(proc, (line) => line.startsWith('{"issuer"'));
  return { process: proc, issuer, clientSecretFile };
}

/** The JSON log line a process prints once it listens (what port it bound); fails if it exits first. */
function listeningLine<T>(proc: GriddeskProcess, matches: (line: string) => boolean): Promise<T> {
  return eventually(
    `${proc.name} listening`,
    async () => {
      const line = readFileSync(proc.logFile, "utf8").split("\n").find(matches);
      if (line) return JSON.parse(line) as T;
      if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited:\n${proc.tail(20)}`);
      return undefined;
    },
    30_000,
    200,
  );
}
