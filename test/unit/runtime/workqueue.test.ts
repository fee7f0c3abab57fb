import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { ItemExponentialFailureRateLimiter } from "../../../src/runtime/ratelimit.js";
import { WorkQueue, type QueueMetrics } from "../../../src/runtime/workqueue.js";
import { FakeClock, settle } from "./fake-clock.js";

function newQueue(clock = new FakeClock()): { q: WorkQueue<string>; clock: FakeClock } {
  return { q: new WorkQueue<string>({ clock }), clock };
}

/** The item get() hands out, or "none" if it would have to wait. */
async function tryGet(q: WorkQueue<string>): Promise<string | undefined | "none"> {
  let got: string | undefined | "none" = "none";
  void q.get().then((item) => (got = item));
  await settle();
  return got;
}

describe("WorkQueue", () => {
  it("merges an item added while it waits", async () => {
    const { q } = newQueue();
    q.add("a");
    q.add("b");
    q.add("a");
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(q.len()).toBe(0);
  });

  it("never hands out an item while it is being processed, and hands it out again after done", async () => {
    const { q } = newQueue();
    q.add("a");
    expect(await q.get()).toBe("a");
    q.add("a");
    q.add("a");
    expect(q.len()).toBe(0);
    let second: string | undefined;
    void q.get().then((item) => (second = item));
    await settle();
    expect(second).toBeUndefined();
    q.done("a");
    await settle();
    expect(second).toBe("a");
    q.done("a");
    expect(await tryGet(q)).toBe("none");
  });

  it("keeps the invariants under random operation sequences", async () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("add" as const), item: fc.constantFrom("a", "b", "c") }),
      fc.record({ kind: fc.constant("get" as const) }),
      fc.record({ kind: fc.constant("done" as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const { q } = newQueue();
        const processing = new Set<string>();
        const owed = new Set<string>(); // added since last handed out
        const take = async (): Promise<void> => {
          const item = (await q.get()) as string;
          expect(processing.has(item)).toBe(false);
          processing.add(item);
          owed.delete(item);
        };
        for (const o of ops) {
          if (o.kind === "add") {
            q.add(o.item);
            owed.add(o.item);
          } else if (o.kind === "get" && q.len() > 0) {
            await take();
          } else if (o.kind === "done" && processing.size > 0) {
            const item = [...processing][o.pick % processing.size] as string;
            processing.delete(item);
            q.done(item);
          }
        }
        for (const item of processing) q.done(item);
        processing.clear();
        while (q.len() > 0) {
          await take();
          for (const item of processing) q.done(item);
          processing.clear();
        }
        expect([...owed]).toEqual([]);
      }),
    );
  });

  it("addAfter adds once the delay has passed, and the earliest pending time wins", async () => {
    const { q, clock } = newQueue();
    q.addAfter("a", 100);
    q.addAfter("a", 50);
    q.addAfter("a", 200);
    await clock.advance(49);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe("a");
    q.done("a");
    await clock.advance(500);
    expect(q.len()).toBe(0);
  });

  it("addRateLimited backs off per item, doubling from 5 ms, and forget resets it", async () => {
    const { q, clock } = newQueue();
    const seen: number[] = [];
    for (let i = 0; i < 4; i++) {
      const start = clock.now();
      q.addRateLimited("a");
      while (q.len() === 0) await clock.advance(1);
      seen.push(clock.now() - start);
      expect(await q.get()).toBe("a");
      q.done("a");
    }
    expect(seen).toEqual([5, 10, 20, 40]);
    expect(q.numRequeues("a")).toBe(4);
    q.forget("a");
    expect(q.numRequeues("a")).toBe(0);
  });

  it("reports adds, depth, retries and in-flight work to its metrics hooks", async () => {
    const clock = new FakeClock();
    const calls = {
      added: 0,
      retried: 0,
      depth: [] as number[],
      started: [] as number[],
      finished: [] as number[],
    };
    let probe: { unfinishedWorkSeconds(): number } | undefined;
    const metrics: QueueMetrics = {
      added: () => calls.added++,
      depth: (n) => calls.depth.push(n),
      started: (s) => calls.started.push(s),
      finished: (s) => calls.finished.push(s),
      retried: () => calls.retried++,
      probe: (p) => (probe = p),
    };
    const q = new WorkQueue<string>({ clock, metrics });
    q.add("a");
    q.add("a");
    await clock.advance(2000);
    await q.get();
    await clock.advance(3000);
    expect(probe?.unfinishedWorkSeconds()).toBe(3);
    q.done("a");
    q.addRateLimited("b");
    expect(calls.added).toBe(1);
    expect(calls.retried).toBe(1);
    expect(calls.started).toEqual([2]);
    expect(calls.finished).toEqual([3]);
    expect(calls.depth).toEqual([1, 0]);
  });

  it("after shutDown ignores adds and drops delayed ones, but still hands out what was queued", async () => {
    const { q, clock } = newQueue();
    q.add("a");
    q.add("b");
    q.addAfter("c", 10);
    q.shutDown();
    q.add("d");
    q.addRateLimited("e");
    await clock.advance(1000);
    expect(await q.get()).toBe("a");
    expect(await q.get()).toBe("b");
    expect(await q.get()).toBeUndefined();
  });

  it("wakes idle getters with undefined on shutdown", async () => {
    const { q } = newQueue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
  });

  it("shutDownWithDrain resolves only after every in-flight item is done, including re-adds", async () => {
    const { q } = newQueue();
    q.add("a");
    expect(await q.get()).toBe("a");
    q.add("a"); // re-added while processing: still owed one more run
    let drained = false;
    void q.shutDownWithDrain().then(() => (drained = true));
    await settle();
    expect(drained).toBe(false);
    q.done("a");
    await settle();
    expect(drained).toBe(false);
    expect(await q.get()).toBe("a");
    q.done("a");
    await settle();
    expect(drained).toBe(true);
  });

  it("uses the rate limiter it is given", async () => {
    const clock = new FakeClock();
    const q = new WorkQueue<string>({ clock, rateLimiter: new ItemExponentialFailureRateLimiter(100, 1000) });
    q.addRateLimited("x");
    await clock.advance(99);
    expect(q.len()).toBe(0);
    await clock.advance(1);
    expect(q.len()).toBe(1);
  });
});
