import { afterEach, describe, expect, it } from "@jest/globals";
import { HealthServer } from "../../../src/runtime/health.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";

let server: HealthServer | undefined;
afterEach(async () => server?.close());

async function fetchText(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

describe("HealthServer", () => {
  it("serves liveness, readiness from its checks, and metrics on an ephemeral port", async () => {
    const metrics = new RuntimeMetrics();
    metrics.queue("widgets").added();
    server = new HealthServer({ host: "127.0.0.1", port: 0, registry: metrics.registry });
    let synced = false;
    server.addHealthzCheck("ping", () => true);
    server.addReadyzCheck("informers-synced", () => synced);
    server.addReadyzCheck("throws", async () => {
      if (!synced) throw new Error("not yet");
      return true;
    });
    const port = await server.listen();
    expect(port).toBeGreaterThan(0);

    expect(await fetchText(port, "/healthz")).toEqual({ status: 200, body: "[+]ping ok\nok\n" });
    const notReady = await fetchText(port, "/readyz");
    expect(notReady.status).toBe(500);
    expect(notReady.body).toContain("[-]informers-synced failed");
    expect(notReady.body).toContain("[-]throws failed");

    synced = true;
    expect((await fetchText(port, "/readyz")).status).toBe(200);

    const scraped = await fetchText(port, "/metrics");
    expect(scraped.status).toBe(200);
    expect(scraped.body).toContain('workqueue_adds_total{name="widgets"} 1');
    expect(scraped.body).toContain("workqueue_unfinished_work_seconds");
    expect(scraped.body).toContain("process_cpu_seconds_total");
    expect((await fetchText(port, "/nope")).status).toBe(404);
  });

  it("releases its port on close", async () => {
    server = new HealthServer({ host: "127.0.0.1", port: 0 });
    const port = await server.listen();
    await server.close();
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
