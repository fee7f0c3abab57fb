// Raw JSON requests through client-node's own HTTP stack (its RequestContext, kubeconfig
// authentication and undici-based HttpLibrary); no fetch of our own.
//
// Why not only the generated APIs: CustomObjectsApi cannot address core kinds and picks
// json-patch as the patch content type unless a header middleware overrides it per call;
// KubernetesObjectApi needs discovery and deserialises core kinds into model classes (Dates
// instead of strings), which differ from what a watch delivers. One raw layer keeps list,
// watch and write results in the same wire shape and lets every call set its content type.
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

/** Headers and connection pool from the kubeconfig, shared by requests until it is refreshed. */
interface Authentication {
  headers: Record<string, string>;
  dispatcher?: Dispatcher;
}

export interface RestClientOptions {
  /**
   * How long one authentication (headers, TLS material, connection pool) is reused before the
   * kubeconfig is read again (rotated certificates, refreshed exec tokens). Default 5 minutes.
   */
  authRefreshMs?: number;
  now?: () => number;
}

export class RestClient {
  private auth?: { promise: Promise<Authentication>; expiresAt: number };
  private readonly authRefreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly http: HttpLibrary = new IsomorphicFetchHttpLibrary(),
    opts: RestClientOptions = {},
  ) {
    this.authRefreshMs = opts.authRefreshMs ?? 300_000;
    this.now = opts.now ?? Date.now;
  }

  /** Sends the request; resolves to the parsed JSON body; rejects with an ApiError or TransportError. */
  async request<T>(req: RestRequest): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    const ctx = new RequestContext(cluster.server + req.path, HttpMethod[req.method]);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) ctx.setQueryParam(k, String(v));
    const auth = await this.authentication();
    for (const [k, v] of Object.entries(auth.headers)) ctx.setHeaderParam(k, v);
    if (auth.dispatcher) ctx.setDispatcher(auth.dispatcher);
    ctx.setHeaderParam("Accept", "application/json");
    if (req.body !== undefined) {
      ctx.setHeaderParam("Content-Type", req.contentType ?? "application/json");
      ctx.setBody(JSON.stringify(req.body));
    }
    if (req.signal) ctx.setSignal(req.signal);

    const what = `${req.method} ${req.path}`;
    let status: number;
    let text: string;
    try {
      const res = await this.http.send(ctx).toPromise();
      status = res.httpStatusCode;
      text = await res.body.text();
    } catch (err) {
      throw new TransportError(what, err);
    }
    const body = parseJson(text);
    if (status === 401 && this.auth) this.auth.expiresAt = 0; // credentials may have rotated: reread them
    if (status < 200 || status > 299) throw apiError(status, body, what);
    return body as T;
  }

  /**
   * client-node's applySecurityAuthentication reads the certificate files and builds a new
   * connection pool on every call; doing that per request costs a TLS handshake per request
   * (and leaves the connection open until the server times it out). Do it once, share the
   * result, and redo it after authRefreshMs or a 401.
   */
  private authentication(): Promise<Authentication> {
    const now = this.now();
    if (this.auth && this.auth.expiresAt > now) return this.auth.promise;
    const promise = this.authenticate(this.auth?.promise);
    const entry = { promise, expiresAt: now + this.authRefreshMs };
    this.auth = entry;
    promise.catch(() => {
      if (this.auth === entry) this.auth = undefined;
    });
    return promise;
  }

  private async authenticate(previous?: Promise<Authentication>): Promise<Authentication> {
    const cluster = this.kubeConfig.getCurrentCluster();
    const probe = new RequestContext(cluster?.server ?? "http://localhost", HttpMethod.GET);
    await this.kubeConfig.applySecurityAuthentication(probe);
    // Requests that picked up the old pool a moment ago still send on it: close it later (close
    // lets requests in flight finish).
    void previous?.then((old) => {
      setTimeout(() => void old.dispatcher?.close().catch(() => undefined), 30_000).unref();
    });
    return { headers: { ...probe.getHeaders() }, dispatcher: probe.getDispatcher() };
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
