// Manager lifecycle without an API server: no informers and no election, so nothing dials out.
import { describe, expect, it } from "@jest/globals";
import { KubeConfig } from "@kubernetes/client-node";
import { createLogger } from "../../../src/runtime/logger.js";
import { Manager } from "../../../src/runtime/manager.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";
import { done } from "../../../src/runtime/reconcile.js";
import { settle } from "./fake-clock.js";

function offlineKubeConfig(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

describe("Manager", () => {
  it("on SIGTERM lets in-flight reconciles finish, then exits 0", async () => {
    const mgr = new Manager({
      kubeConfig: offlineKubeConfig(),
      logger: createLogger({ level: "silent" }),
      metrics: new RuntimeMetrics({ processMetrics: false }),
      shutdownTimeoutMs: 10_000,
    });
    let finished = false;
    let release: () => void = () => {};
    const controller = mgr.addController({
      name: "slow",
      reconciler: {
        async reconcile() {
          await new Promise<void>((r) => (release = r));
          finished = true;
          return done();
        },
      },
    });
    const exits: number[] = [];
    mgr.handleSignals((code) => exits.push(code));
    await mgr.start();
    await settle();
    expect(mgr.isLeader()).toBe(true); // no election configured: runs at once
    controller.enqueue({ name: "a" });
    await settle();

    process.emit("SIGTERM");
    await settle();
    expect(exits).toEqual([]); // still waiting for the reconcile
    release();
    await mgr.stop();
    await settle();
    expect(finished).toBe(true);
    expect(exits).toEqual([0]);
    expect(() => mgr.addController({ name: "late", reconciler: { reconcile: async () => done() } })).toThrow(
      /after/,
    );
  });
});
