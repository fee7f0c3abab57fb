// RestClient authenticates once and shares the result (headers and connection pool) across
// requests, rereading the kubeconfig only after the refresh interval or a 401.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "@jest/globals";
import { KubeConfig, ResponseContext, type HttpLibrary, type RequestContext } from "@kubernetes/client-node";
import { RestClient } from "../../../src/runtime/rest.js";

class CountingKubeConfig extends KubeConfig {
  authentications = 0;

  constructor(server = "https://127.0.0.1:1") {
    super();
    this.loadFromOptions({
      clusters: [{ name: "c", server, skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
  }

  override async applySecurityAuthentication(ctx: RequestContext): Promise<void> {
    this.authentications++;
    await super.applySecurityAuthentication(ctx);
  }

  override async applyToHTTPSOptions(opts: Parameters<KubeConfig["applyToHTTPSOptions"]>[0]): Promise<void> {
    this.authentications++;
    await super.applyToHTTPSOptions(opts);
  }
}

/** Answers every request with `status` and records what it was sent. */
function fakeHttp(status = () => 200): HttpLibrary & { sent: RequestContext[] } {
  const sent: RequestContext[] = [];
  return {
    sent,
    send(ctx: RequestContext) {
      sent.push(ctx);
      const res = new ResponseContext(status(), {}, {
        text: async () => "{}",
        binary: async () => Buffer.from("{}"),
        stream: () => null,
      } as never);
      return { toPromise: async () => res } as never;
    },
  };
}

describe("RestClient authentication", () => {
  it("authenticates once for many concurrent requests and reuses one connection pool", async () => {
    const kc = new CountingKubeConfig();
    const http = fakeHttp();
    const rest = new RestClient(kc, http);
    await Promise.all(Array.from({ length: 20 }, () => rest.request({ method: "GET", path: "/api" })));
    expect(kc.authentications).toBe(1);
    expect(new Set(http.sent.map((c) => c.getDispatcher())).size).toBe(1);
    expect(http.sent[0]?.getHeaders().Authorization).toBe("Bearer t");
  });

  it("authenticates again after the refresh interval", async () => {
    const kc = new CountingKubeConfig();
    let now = 0;
    const rest = new RestClient(kc, fakeHttp(), { authRefreshMs: 1000, now: () => now });
    await rest.request({ method: "GET", path: "/api" });
    now = 999;
    await rest.request({ method: "GET", path: "/api" });
    expect(kc.authentications).toBe(1);
    now = 1000;
    await rest.request({ method: "GET", path: "/api" });
    expect(kc.authentications).toBe(2);
  });

  it("authenticates again after a 401", async () => {
    const kc = new CountingKubeConfig();
    let status = 401;
    const rest = new RestClient(
      kc,
      fakeHttp(() => status),
    );
    await expect(rest.request({ method: "GET", path: "/api" })).rejects.toThrow(/401/);
    status = 200;
    await rest.request({ method: "GET", path: "/api" });
    expect(kc.authentications).toBe(2);
  });

  it("over node:http(s) by default: one keep-alive connection, the kubeconfig's headers", async () => {
    const seen: { url?: string; auth?: string; port: number; body: string }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        seen.push({ url: req.url, auth: req.headers.authorization, port: req.socket.remotePort ?? 0, body });
        res.setHeader("Content-Type", "application/json");
        res.end(JSON.stringify({ kind: "Thing", n: seen.length }));
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const { port } = server.address() as AddressInfo;
      const kc = new CountingKubeConfig(`http://127.0.0.1:${port}`);
      const rest = new RestClient(kc);
      for (let i = 0; i < 5; i++) {
        const got = await rest.request<{ n: number }>({
          method: "PATCH",
          path: "/api/v1/namespaces/a/configmaps/b",
          query: { fieldManager: "t", skip: undefined },
          body: { i },
          contentType: "application/merge-patch+json",
        });
        expect(got.n).toBe(i + 1);
      }
      expect(kc.authentications).toBe(1);
      expect(new Set(seen.map((s) => s.port)).size).toBe(1);
      expect(seen[0]).toMatchObject({
        url: "/api/v1/namespaces/a/configmaps/b?fieldManager=t",
        auth: "Bearer t",
        body: '{"i":0}',
      });
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
