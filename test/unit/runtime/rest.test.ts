// RestClient authenticates once and shares the result (headers and connection pool) across
// requests, rereading the kubeconfig only after the refresh interval or a 401.
import { describe, expect, it } from "@jest/globals";
import { KubeConfig, ResponseContext, type HttpLibrary, type RequestContext } from "@kubernetes/client-node";
import { RestClient } from "../../../src/runtime/rest.js";

class CountingKubeConfig extends KubeConfig {
  authentications = 0;

  constructor() {
    super();
    this.loadFromOptions({
      clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
      users: [{ name: "u", token: "t" }],
      contexts: [{ name: "x", cluster: "c", user: "u" }],
      currentContext: "x",
    });
  }

  override async applySecurityAuthentication(ctx: RequestContext): Promise<void> {
    this.authentications++;
    await super.applySecurityAuthentication(ctx);
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
});
