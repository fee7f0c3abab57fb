// Probes and metrics over node:http: /healthz (liveness), /readyz (readiness: every
// registered check passes, e.g. informers synced) and /metrics (Prometheus text). Failing
// probes answer 500 and name the failing checks, as kube-apiserver's own probes do.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { silentLogger } from "./logger.js";

/** Passes by returning true (or resolving true); false or a throw fails it. */
export type Check = () => boolean | Promise<boolean>;

export interface HealthServerOptions {
  /** Default "0.0.0.0"; tests use "127.0.0.1". */
  host?: string;
  /** 0 picks a free port; listen() returns the one bound. */
  port: number;
  registry?: Registry;
  logger?: Logger;
}

export class HealthServer {
  private readonly liveness = new Map<string, Check>();
  private readonly readiness = new Map<string, Check>();
  private readonly log: Logger;
  private server?: Server;

  constructor(private readonly opts: HealthServerOptions) {
    this.log = opts.logger ?? silentLogger();
  }

  addHealthzCheck(name: string, check: Check): void {
    this.liveness.set(name, check);
  }

  addReadyzCheck(name: string, check: Check): void {
    this.readiness.set(name, check);
  }

  /** Starts listening; resolves to the bound port. */
  listen(): Promise<number> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.opts.port, this.opts.host ?? "0.0.0.0", () => {
        const port = (server.address() as AddressInfo).port;
        this.log.info({ port }, "health and metrics server listening");
        resolve(port);
      });
    });
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    try {
      if (url.pathname === "/healthz" || url.pathname === "/livez")
        return await this.probe(this.liveness, res);
      if (url.pathname === "/readyz") return await this.probe(this.readiness, res);
      if (url.pathname === "/metrics" && this.opts.registry) {
        const body = await this.opts.registry.metrics();
        res.writeHead(200, { "Content-Type": this.opts.registry.contentType }).end(body);
        return;
      }
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
    } catch (err) {
      this.log.error({ err, path: url.pathname }, "health endpoint failed");
      if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
      res.end("internal error\n");
    }
  }

  private async probe(checks: Map<string, Check>, res: ServerResponse): Promise<void> {
    const lines: string[] = [];
    let ok = true;
    for (const [name, check] of checks) {
      const passed = await Promise.resolve()
        .then(check)
        .catch(() => false);
      ok &&= passed;
      lines.push(`[${passed ? "+" : "-"}]${name} ${passed ? "ok" : "failed"}`);
    }
    lines.push(ok ? "ok" : "check failed");
    res.writeHead(ok ? 200 : 500, { "Content-Type": "text/plain" }).end(lines.join("\n") + "\n");
  }
}
