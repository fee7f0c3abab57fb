// Raw JSON requests with the kubeconfig's authentication (see RestClient for the transport).
//
// Why not only the generated APIs: CustomObjectsApi cannot address core kinds and picks
// json-patch as the patch content type unless a header middleware overrides it per call;
// KubernetesObjectApi needs discovery and deserialises core kinds into model classes (Dates
// instead of strings), which differ from what a watch delivers. One raw layer keeps list,
// watch and write results in the same wire shape and lets every call set its content type.
import http from "node:http";
import https from "node:https";
import {
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  RequestContext,
  type HttpLibrary,
  type KubeConfig,
} from "@kubernetes/client-node";
import { apiError, TransportError } from "./errors.js";

export type Query = Record<string, string | number | boolean | undefined>;

export interface RestRequest {
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  query?: Query;
  /** Sent as JSON (also valid YAML, so it serves `application/apply-patch+yaml`). */
  body?: unknown;
  /** Defaults to `application/json`. */
  contentType?: string;
  signal?: AbortSignal;
}

type Dispatcher = NonNullable<ReturnType<RequestContext["getDispatcher"]>>;

interface Sent {
  status: number;
  text: string;
}

/** Sends one prepared request; made from the kubeconfig once, shared until it is refreshed. */
interface Transport {
  send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body?: string,
    signal?: AbortSignal,
  ): Promise<Sent>;
  /** Lets requests in flight finish, then closes the connections. */
  close(): void;
}

export interface RestClientOptions {
  /**
   * How long one authentication (headers, TLS material, connection pool) is reused before the
   * kubeconfig is read again (rotated certificates, refreshed exec tokens). Default 5 minutes.
   */
  authRefreshMs?: number;
  now?: () => number;
}

/**
 * JSON requests to the API server. By default over node:https with one keep-alive connection
 * pool built from the kubeconfig's TLS material and headers; through client-node's HttpLibrary
 * (undici fetch) when one is passed in or the cluster needs a proxy.
 *
 * Measured on the project's 2-core machines (see BENCHMARKS.md): client-node's own path calls
 * applySecurityAuthentication per request, which reads the certificate files and builds a new
 * undici Agent, so every request paid a TLS handshake and left a connection behind; and undici's
 * fetch costs about twice the CPU per request of node:https.
 */
export class RestClient {
  private transport?: { promise: Promise<Transport>; expiresAt: number };
  private readonly authRefreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly http?: HttpLibrary,
    opts: RestClientOptions = {},
  ) {
    this.authRefreshMs = opts.authRefreshMs ?? 300_000;
    this.now = opts.now ?? Date.now;
  }

  /** Sends the request; resolves to the parsed JSON body; rejects with an ApiError or TransportError. */
  async request<T>(req: RestRequest): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    const url = new URL(cluster.server.replace(/\/+$/, "") + req.path);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: "application/json" };
    let body: string | undefined;
    if (req.body !== undefined) {
      headers["Content-Type"] = req.contentType ?? "application/json";
      body = JSON.stringify(req.body);
    }
    const what = `${req.method} ${req.path}`;
    let sent: Sent;
    try {
      const transport = await this.currentTransport();
      sent = await transport.send(url, req.method, headers, body, req.signal);
    } catch (err) {
      throw new TransportError(what, err);
    }
    const parsed = parseJson(sent.text);
    if (sent.status === 401 && this.transport) this.transport.expiresAt = 0; // credentials may have rotated
    if (sent.status < 200 || sent.status > 299) throw apiError(sent.status, parsed, what);
    return parsed as T;
  }

  private currentTransport(): Promise<Transport> {
    const now = this.now();
    if (this.transport && this.transport.expiresAt > now) return this.transport.promise;
    const previous = this.transport?.promise;
    const promise =
      this.http || this.kubeConfig.getCurrentCluster()?.proxyUrl
        ? this.libraryTransport()
        : this.nodeTransport();
    const entry = { promise, expiresAt: now + this.authRefreshMs };
    this.transport = entry;
    promise.catch(() => {
      if (this.transport === entry) this.transport = undefined;
    });
    // Requests that picked up the old transport a moment ago still send on it: close it later.
    void previous?.then((old) => setTimeout(() => old.close(), 30_000).unref()).catch(() => undefined);
    return promise;
  }

  /** node:https (or http) with a keep-alive Agent holding the kubeconfig's TLS material. */
  private async nodeTransport(): Promise<Transport> {
    const opts: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const tls = {
      ca: opts.ca,
      cert: opts.cert,
      key: opts.key,
      pfx: opts.pfx,
      passphrase: opts.passphrase,
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      ...(opts.servername !== undefined ? { servername: opts.servername } : {}),
    };
    const plain = this.kubeConfig.getCurrentCluster()?.server.startsWith("http:") ?? false;
    const agent = plain
      ? new http.Agent({ keepAlive: true })
      : new https.Agent({ ...tls, keepAlive: true, scheduling: "lifo" });
    const extra = Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k, String(v)]));
    const auth = opts.auth;
    const module = plain ? http : https;
    return {
      send: (url, method, headers, body, signal) =>
        new Promise<Sent>((resolve, reject) => {
          const req = module.request(
            url,
            {
              method,
              agent,
              auth,
              signal,
              headers: {
                ...extra,
                ...headers,
                ...(body !== undefined ? { "Content-Length": Buffer.byteLength(body) } : {}),
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
          req.end(body);
        }),
      close: () => agent.destroy(),
    };
  }

  /** client-node's HttpLibrary, with the authentication (headers and dispatcher) made once. */
  private async libraryTransport(): Promise<Transport> {
    const library = this.http ?? new IsomorphicFetchHttpLibrary();
    const probe = new RequestContext(
      this.kubeConfig.getCurrentCluster()?.server ?? "http://localhost",
      HttpMethod.GET,
    );
    await this.kubeConfig.applySecurityAuthentication(probe);
    const authHeaders = { ...probe.getHeaders() };
    const dispatcher: Dispatcher | undefined = probe.getDispatcher();
    return {
      async send(url, method, headers, body, signal) {
        const ctx = new RequestContext(url.toString(), HttpMethod[method as keyof typeof HttpMethod]);
        for (const [k, v] of Object.entries({ ...authHeaders, ...headers })) ctx.setHeaderParam(k, v);
        if (dispatcher) ctx.setDispatcher(dispatcher);
        if (body !== undefined) ctx.setBody(body);
        if (signal) ctx.setSignal(signal);
        const res = await library.send(ctx).toPromise();
        return { status: res.httpStatusCode, text: await res.body.text() };
      },
      close: () => void dispatcher?.close().catch(() => undefined),
    };
  }
}

function parseJson(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
