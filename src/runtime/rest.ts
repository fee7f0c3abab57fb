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

export class RestClient {
  constructor(
    private readonly kubeConfig: KubeConfig,
    private readonly http: HttpLibrary = new IsomorphicFetchHttpLibrary(),
  ) {}

  /** Sends the request; resolves to the parsed JSON body; rejects with an ApiError or TransportError. */
  async request<T>(req: RestRequest): Promise<T> {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    const ctx = new RequestContext(cluster.server + req.path, HttpMethod[req.method]);
    for (const [k, v] of Object.entries(req.query ?? {}))
      if (v !== undefined) ctx.setQueryParam(k, String(v));
    ctx.setHeaderParam("Accept", "application/json");
    if (req.body !== undefined) {
      ctx.setHeaderParam("Content-Type", req.contentType ?? "application/json");
      ctx.setBody(JSON.stringify(req.body));
    }
    if (req.signal) ctx.setSignal(req.signal);
    await this.kubeConfig.applySecurityAuthentication(ctx);

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
    if (status < 200 || status > 299) throw apiError(status, body, what);
    return body as T;
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
