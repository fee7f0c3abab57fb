// The manager end to end: a ConfigMap controller runs once this process leads and the cache
// has synced, probes and metrics answer, and shutdown drains and releases the lease.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { Manager } from "../../src/runtime/manager.js";
import { createLogger } from "../../src/runtime/logger.js";
import { LEASES } from "../../src/runtime/leader.js";
import type { Lease } from "../../src/runtime/lease-record.js";
import { RuntimeMetrics } from "../../src/runtime/metrics.js";
import { done, type Reconciler } from "../../src/runtime/reconcile.js";
import type { KubeObject, ResourceRef } from "../../src/runtime/resource.js";
import { createTestNamespace, deleteNamespace, eventually, kubeConfig } from "./support/cluster.js";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
const CONFIGMAPS: ResourceRef = { group: "", version: "v1", plural: "configmaps", namespaced: true };

let ns: string;
beforeAll(async () => {
  ns = await createTestNamespace("rt-manager");
});
afterAll(async () => deleteNamespace(ns));

describe("Manager against the API server", () => {
  it("leads, syncs, reconciles, serves probes and metrics, then shuts down cleanly", async () => {
    const mgr = new Manager({
      kubeConfig: kubeConfig(),
      logger: createLogger({ level: "silent" }),
      metrics: new RuntimeMetrics(),
      leaderElection: {
        namespace: ns,
        name: "griddesk-test",
        identity: "mgr-1",
        leaseDurationMs: 3000,
        renewDeadlineMs: 2000,
        retryPeriodMs: 500,
      },
      health: { host: "127.0.0.1", port: 0 },
      fieldManager: "griddesk-test",
      onLeadershipLost: () => {
        throw new Error("leadership must not be lost in this test");
      },
    });
    const cms = mgr.client<ConfigMap>(CONFIGMAPS);
    const informer = mgr.informer<ConfigMap>({
      resource: CONFIGMAPS,
      namespace: ns,
      labelSelector: "demo=true",
    });
    const again = mgr.informer<ConfigMap>({
      resource: CONFIGMAPS,
      namespace: ns,
      labelSelector: "demo=true",
    });
    expect(again).toBe(informer); // shared

    let inFlight = 0;
    const reconciler: Reconciler = {
      async reconcile(req) {
        inFlight++;
        try {
          const cm = informer.get(`${req.namespace}/${req.name}`);
          if (!cm || cm.data?.reconciled === "true") return done();
          await cms.mergePatch(
            { namespace: req.namespace, name: req.name },
            { data: { reconciled: "true" } },
          );
          return done();
        } finally {
          inFlight--;
        }
      },
    };
    const controller = mgr.addController({ name: "configmap-demo", reconciler, workers: 2 });
    controller.watch(informer);

    await cms.create({ metadata: { name: "before-start", namespace: ns, labels: { demo: "true" } } });
    await mgr.start();
    const port = mgr.healthPort as number;
    const get = async (path: string) => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`);
      return { status: res.status, body: await res.text() };
    };
    expect((await get("/healthz")).status).toBe(200);

    await eventually("ready", async () => (await get("/readyz")).status === 200);
    await eventually("leading", () => mgr.isLeader());
    await cms.create({ metadata: { name: "after-start", namespace: ns, labels: { demo: "true" } } });
    await eventually("both reconciled", async () => {
      const all = await cms.list({ namespace: ns, labelSelector: "demo=true" });
      return all.length === 2 && all.every((c) => c.data?.reconciled === "true");
    });

    // A reconcile is counted when it returns, just after the write the test saw: wait for it.
    const metrics = await eventually("a successful reconcile counted", async () => {
      const body = (await get("/metrics")).body;
      return /controller_runtime_reconcile_total\{controller="configmap-demo",result="success"\} [1-9]/.test(
        body,
      )
        ? body
        : undefined;
    });
    expect(metrics).toMatch(
      /controller_runtime_reconcile_total\{controller="configmap-demo",result="success"\} [1-9]/,
    );
    expect(metrics).toContain('leader_election_master_status{name="griddesk-test"} 1');
    expect(metrics).toMatch(/workqueue_adds_total\{name="configmap-demo"\} [1-9]/);

    await mgr.stop();
    expect(inFlight).toBe(0);
    const lease = await mgr.client<Lease>(LEASES).get({ namespace: ns, name: "griddesk-test" });
    expect(lease.spec?.holderIdentity).toBe("");
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  }, 90_000);
});
