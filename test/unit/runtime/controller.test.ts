import { describe, expect, it } from "@jest/globals";
import { Writable } from "node:stream";
import { Controller, type EventSource } from "../../../src/runtime/controller.js";
import type { EventHandler } from "../../../src/runtime/informer-events.js";
import { ConflictError } from "../../../src/runtime/errors.js";
import { createLogger } from "../../../src/runtime/logger.js";
import { controllerOwner } from "../../../src/runtime/mapping.js";
import { RuntimeMetrics } from "../../../src/runtime/metrics.js";
import {
  done,
  requeue,
  requeueAfter,
  TerminalError,
  type ReconcileContext,
  type Request,
  type Result,
} from "../../../src/runtime/reconcile.js";
import type { KubeObject } from "../../../src/runtime/resource.js";
import { toCached } from "../../../src/runtime/store.js";
import { FakeClock, settle } from "./fake-clock.js";

type Behaviour = (req: Request, ctx: ReconcileContext, call: number) => Promise<Result>;

function setup(behaviour: Behaviour, workers = 1) {
  const clock = new FakeClock();
  const metrics = new RuntimeMetrics({ processMetrics: false });
  const calls: { key: string; at: number; ctx: ReconcileContext }[] = [];
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  let n = 0;
  const controller = new Controller({
    name: "widgets",
    workers,
    clock,
    metrics,
    logger: createLogger({ level: "debug", destination }),
    newID: () => `id-${++n}`,
    reconciler: {
      reconcile: (req, ctx) => {
        calls.push({ key: req.namespace ? `${req.namespace}/${req.name}` : req.name, at: clock.now(), ctx });
        return behaviour(req, ctx, calls.length);
      },
    },
  });
  return { clock, metrics, calls, lines, controller };
}

async function count(metrics: RuntimeMetrics, name: string, labels: Record<string, string>): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val));
  return match?.value ?? 0;
}

describe("Controller result handling", () => {
  it("done: reconciles once and forgets the key", async () => {
    const { controller, calls, metrics, clock } = setup(async () => done());
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    await clock.advance(10_000);
    expect(calls.map((c) => c.key)).toEqual(["ns/a"]);
    expect(controller.queue.numRequeues("ns/a")).toBe(0);
    expect(
      await count(metrics, "controller_runtime_reconcile_total", {
        controller: "widgets",
        result: "success",
      }),
    ).toBe(1);
  });

  it("requeueAfter: reconciles again after the given time", async () => {
    const { controller, calls, metrics, clock } = setup(async (_r, _c, call) =>
      call === 1 ? requeueAfter(30_000) : done(),
    );
    controller.start();
    controller.enqueue({ name: "cluster-scoped" });
    await clock.advance(29_999);
    expect(calls).toHaveLength(1);
    await clock.advance(1);
    expect(calls).toHaveLength(2);
    expect(calls[1]?.key).toBe("cluster-scoped");
    expect(await count(metrics, "controller_runtime_reconcile_total", { result: "requeue_after" })).toBe(1);
  });

  it("a thrown error retries with per-item backoff doubling from 5 ms until success", async () => {
    const { controller, calls, metrics, clock } = setup(async (_r, _c, call) => {
      if (call <= 4) throw new Error("api unavailable");
      return done();
    });
    controller.start();
    const t0 = clock.now();
    controller.enqueue({ namespace: "ns", name: "a" });
    await clock.advance(1000);
    expect(calls.map((c) => c.at - t0)).toEqual([0, 5, 15, 35, 75]);
    expect(controller.queue.numRequeues("ns/a")).toBe(0); // forgotten after the success
    expect(await count(metrics, "controller_runtime_reconcile_total", { result: "error" })).toBe(4);
    expect(await count(metrics, "controller_runtime_reconcile_errors_total", { controller: "widgets" })).toBe(
      4,
    );
  });

  it("a write conflict retries like an error but logs at info, without a stack trace", async () => {
    const { controller, calls, metrics, clock, lines } = setup(async (_r, _c, call) => {
      if (call === 1)
        throw new ConflictError(409, { reason: "Conflict", message: "modified" }, "PATCH widgets/a");
      return done();
    });
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    await clock.advance(10);
    expect(calls).toHaveLength(2);
    expect(await count(metrics, "controller_runtime_reconcile_total", { result: "error" })).toBe(1);
    expect(lines.filter((l) => l.level === "error" || l.level === 50)).toEqual([]);
    expect(lines.some((l) => String(l.msg).includes("object changed meanwhile"))).toBe(true);
  });

  it("requeue: retries with the rate limiter but is not an error", async () => {
    const { controller, calls, metrics, clock } = setup(async (_r, _c, call) =>
      call === 1 ? requeue() : done(),
    );
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    await clock.advance(5);
    expect(calls).toHaveLength(2);
    expect(await count(metrics, "controller_runtime_reconcile_total", { result: "requeue" })).toBe(1);
    expect(await count(metrics, "controller_runtime_reconcile_errors_total", {})).toBe(0);
  });

  it("TerminalError: logged and counted, never retried", async () => {
    const { controller, calls, metrics, clock, lines } = setup(async () => {
      throw new TerminalError("spec.image.sha256 does not match the image");
    });
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    await clock.advance(3_600_000);
    expect(calls).toHaveLength(1);
    expect(await count(metrics, "controller_runtime_reconcile_total", { result: "terminal_error" })).toBe(1);
    expect(await count(metrics, "controller_runtime_terminal_reconcile_errors_total", {})).toBe(1);
    expect(lines.some((l) => l.level === "error" && String(l.msg).includes("terminally"))).toBe(true);
  });

  it("a programming error is recovered as a panic, counted, and retried", async () => {
    const { controller, calls, metrics, clock } = setup(async (_r, _c, call) => {
      if (call === 1) {
        const broken = undefined as unknown as { spec: { x: number } };
        return requeueAfter(broken.spec.x);
      }
      return done();
    });
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    await clock.advance(5);
    expect(calls).toHaveLength(2);
    expect(await count(metrics, "controller_runtime_reconcile_panics_total", {})).toBe(1);
    expect(await count(metrics, "controller_runtime_reconcile_total", { result: "panic" })).toBe(1);
  });

  it("a synchronous throw and a rejected non-Error are recovered too", async () => {
    let call = 0;
    const { controller, calls, clock } = setup(((_r: Request) => {
      call++;
      if (call === 1) throw new Error("sync");
      if (call === 2) return Promise.reject("a string");
      return Promise.resolve(done());
    }) as Behaviour);
    controller.start();
    controller.enqueue({ name: "a" });
    await clock.advance(100);
    expect(calls).toHaveLength(3);
  });
});

describe("Controller concurrency, context and shutdown", () => {
  it("never reconciles one key concurrently; a re-add while running causes exactly one more run", async () => {
    let running = 0;
    let maxRunning = 0;
    const releases: (() => void)[] = [];
    const { controller, calls, clock } = setup(async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      await new Promise<void>((r) => releases.push(r));
      running--;
      return done();
    }, 4);
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    await settle();
    for (let i = 0; i < 5; i++) controller.enqueue({ namespace: "ns", name: "a" });
    controller.enqueue({ namespace: "ns", name: "b" });
    await settle();
    expect(calls.map((c) => c.key)).toEqual(["ns/a", "ns/b"]);
    releases.shift()?.();
    await clock.advance(1);
    expect(calls.map((c) => c.key)).toEqual(["ns/a", "ns/b", "ns/a"]);
    while (releases.length) releases.shift()?.();
    await clock.advance(1000);
    expect(calls).toHaveLength(3);
    expect(maxRunning).toBe(2); // a and b in parallel, never a twice
  });

  it("gives every reconcile its own ID in the log context with controller and object", async () => {
    const { controller, clock, calls, lines } = setup(async (_r, ctx) => {
      ctx.log.info("working");
      return done();
    });
    controller.start();
    controller.enqueue({ namespace: "ns", name: "a" });
    controller.enqueue({ namespace: "ns", name: "b" });
    await clock.advance(10);
    expect(calls.map((c) => c.ctx.reconcileID)).toEqual(["id-1", "id-2"]);
    const working = lines.filter((l) => l.msg === "working");
    expect(working).toEqual([
      expect.objectContaining({
        controller: "widgets",
        object: { namespace: "ns", name: "a" },
        reconcileID: "id-1",
      }),
      expect.objectContaining({
        controller: "widgets",
        object: { namespace: "ns", name: "b" },
        reconcileID: "id-2",
      }),
    ]);
  });

  it("maps watched events to requests, old and new object on update, only once started", async () => {
    let handler: EventHandler<KubeObject> | undefined;
    const source: EventSource<KubeObject> = {
      addHandler: (h) => ((handler = h), () => (handler = undefined)),
    };
    const { controller, calls, clock } = setup(async () => done());
    controller.watch(source, controllerOwner("DesktopPool", "griddesk.io"));
    expect(handler).toBeUndefined();
    controller.start();
    const owned = (pool: string) =>
      toCached<KubeObject>({
        metadata: {
          name: "d1",
          namespace: "ns",
          ownerReferences: [
            {
              apiVersion: "griddesk.io/v1alpha1",
              kind: "DesktopPool",
              name: pool,
              uid: "u",
              controller: true,
            },
          ],
        },
      });
    handler?.update?.(owned("old-pool"), owned("new-pool"));
    handler?.add?.(toCached<KubeObject>({ metadata: { name: "orphan", namespace: "ns" } }));
    await clock.advance(10);
    expect(calls.map((c) => c.key).sort()).toEqual(["ns/new-pool", "ns/old-pool"]);
    await controller.stop(1000);
    expect(handler).toBeUndefined();
  });

  it("with coalesceMs, merges a window of events into one reconcile", async () => {
    let handler: EventHandler<KubeObject> | undefined;
    const source: EventSource<KubeObject> = { addHandler: (h) => ((handler = h), () => undefined) };
    const { controller, calls, clock } = setup(async () => done());
    controller.watch(source, (o) => [{ name: o.metadata.labels?.host ?? "" }], { coalesceMs: 1000 });
    controller.start();
    const desktop = (i: number) =>
      toCached<KubeObject>({ metadata: { name: `d${i}`, labels: { host: "h1" } } });
    for (let i = 0; i < 5; i++) {
      handler?.add?.(desktop(i));
      await clock.advance(100);
    }
    expect(calls).toHaveLength(0);
    await clock.advance(600);
    expect(calls.map((c) => c.key)).toEqual(["h1"]);
    handler?.add?.(desktop(9));
    await clock.advance(1000);
    expect(calls.map((c) => c.key)).toEqual(["h1", "h1"]);
    await controller.stop(1000);
  });

  it("stop waits for in-flight reconciles; past the timeout it aborts their signal", async () => {
    let release: () => void = () => {};
    let signal: AbortSignal | undefined;
    const { controller, clock } = setup(async (_r, ctx) => {
      signal = ctx.signal;
      await new Promise<void>((r) => (release = r));
      return done();
    });
    controller.start();
    controller.enqueue({ name: "slow" });
    await settle();
    let result: boolean | undefined;
    void controller.stop(5000).then((r) => (result = r));
    await clock.advance(4999);
    expect(result).toBeUndefined();
    await clock.advance(1);
    expect(result).toBe(false);
    expect(signal?.aborted).toBe(true);
    release();
  });

  it("stop resolves true once in-flight work finishes in time", async () => {
    let release: () => void = () => {};
    const { controller, clock } = setup(async () => {
      await new Promise<void>((r) => (release = r));
      return done();
    });
    controller.start();
    controller.enqueue({ name: "a" });
    await settle();
    const stopped = controller.stop(5000);
    controller.enqueue({ name: "late" }); // ignored: the queue is shutting down
    release();
    await clock.advance(1);
    expect(await stopped).toBe(true);
  });
});
