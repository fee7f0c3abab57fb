// The benchmarks' own API client: node:https with keep-alive and a fixed number of sockets,
// reading the kubeconfig that hack/cluster-up.sh writes (client-certificate files). It is
// deliberately independent of src/runtime, so that the measuring apparatus (the load
// generator and the floor) stays the same while the operator's client is being optimised.
import { readFileSync } from "node:fs";
import https from "node:https";
import { load } from "js-yaml";

export interface KubeTarget {
  server: URL;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export function loadTarget(kubeconfigPath: string): KubeTarget {
  const doc = load(readFileSync(kubeconfigPath, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority": string } }[];
    users: { user: { "client-certificate": string; "client-key": string } }[];
  };
  const cluster = doc.clusters[0]?.cluster;
  const user = doc.users[0]?.user;
  if (!cluster || !user) throw new Error(`${kubeconfigPath}: no cluster or user`);
  return {
    server: new URL(cluster.server),
    ca: readFileSync(cluster["certificate-authority"]),
    cert: readFileSync(user["client-certificate"]),
    key: readFileSync(user["client-key"]),
  };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
    what: string,
  ) {
    super(`${what}: HTTP ${status} ${body.slice(0, 300)}`);
  }
}

export const MergePatch = "application/merge-patch+json";
export const JsonPatch = "application/json-patch+json";

export class Kube {
  private readonly agent: https.Agent;
  private readonly watchAgent: https.Agent;
  /** Requests sent, by verb (what the load generator and the floor cost the API server). */
  readonly sent: Record<string, number> = {};

  /** `sockets`: connections the client keeps to the API server (its concurrency). */
  constructor(
    readonly target: KubeTarget,
    sockets = 64,
  ) {
    const tls = { ca: target.ca, cert: target.cert, key: target.key };
    this.agent = new https.Agent({ ...tls, keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets });
    this.watchAgent = new https.Agent({ ...tls, keepAlive: false });
  }

  close(): void {
    this.agent.destroy();
    this.watchAgent.destroy();
  }

  async request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    this.sent[method] = (this.sent[method] ?? 0) + 1;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          host: this.target.server.hostname,
          port: this.target.server.port,
          method,
          path,
          headers: {
            Accept: "application/json",
            ...(payload !== undefined
              ? {
                  "Content-Type": contentType ?? "application/json",
                  "Content-Length": Buffer.byteLength(payload),
                }
              : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
    if (status < 200 || status > 299) throw new HttpError(status, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request<T>("GET", path);
  }

  /** Plain text GET (e.g. the API server's /metrics). */
  async text(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      https
        .get(
          { agent: this.agent, host: this.target.server.hostname, port: this.target.server.port, path },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve(Buffer.concat(chunks).toString()));
            res.on("error", reject);
          },
        )
        .on("error", reject);
    });
  }

  /**
   * Watches `path` from `resourceVersion`, calling onEvent for every event, until stop().
   * Resolves once the server has answered (the watch is open).
   */
  watch(
    path: string,
    resourceVersion: string,
    onEvent: (type: string, obj: Record<string, unknown>) => void,
    onEnd: (err?: Error) => void,
  ): Promise<{ stop(): void }> {
    const sep = path.includes("?") ? "&" : "?";
    return new Promise((resolve, reject) => {
      const req = https.get(
        {
          agent: this.watchAgent,
          host: this.target.server.hostname,
          port: this.target.server.port,
          path: `${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${resourceVersion}`,
          headers: { Accept: "application/json" },
        },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new HttpError(res.statusCode ?? 0, "", `watch ${path}`));
            res.resume();
            return;
          }
          resolve({ stop: () => req.destroy() });
          let buf = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf("\n")) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (!line.trim()) continue;
              const ev = JSON.parse(line) as { type: string; object: Record<string, unknown> };
              onEvent(ev.type, ev.object);
            }
          });
          res.on("end", () => onEnd());
          res.on("error", (err) => onEnd(err));
        },
      );
      req.on("error", (err) => {
        reject(err);
        onEnd(err);
      });
    });
  }
}

/** Runs fn over items with at most `limit` in flight. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i] as T, i);
      }
    }),
  );
}
