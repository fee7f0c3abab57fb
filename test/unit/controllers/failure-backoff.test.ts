import { describe, expect, it } from "@jest/globals";
import { FailureBackoff } from "../../../src/controllers/pool/failure-backoff.js";
import { FakeClock } from "../runtime/fake-clock.js";

const opts = { initialMs: 5_000, maxMs: 40_000 };

describe("FailureBackoff", () => {
  it("backs a host off for 5 s, doubling per failure in a row up to the cap", async () => {
    const clock = new FakeClock();
    const b = new FailureBackoff(clock, opts);
    const delays = [1, 2, 3, 4, 5].map((i) => b.failed("ns/p", "h1", `uid-${i}`, i)?.delayMs);
    expect(delays).toEqual([5_000, 10_000, 20_000, 40_000, 40_000]);
    expect(b.failures("ns/p", "h1")).toBe(5);
    expect(b.remainingMs("ns/p", "h1")).toBe(40_000);
    await clock.advance(39_000);
    expect(b.remainingMs("ns/p", "h1")).toBe(1_000);
    await clock.advance(1_000);
    expect(b.remainingMs("ns/p", "h1")).toBe(0);
  });

  it("counts one failed desktop once however often it is seen", () => {
    const b = new FailureBackoff(new FakeClock(), opts);
    expect(b.failed("ns/p", "h1", "uid-1", 1)).toEqual({ failures: 1, delayMs: 5_000 });
    expect(b.failed("ns/p", "h1", "uid-1", 1)).toBeUndefined();
    expect(b.failures("ns/p", "h1")).toBe(1);
  });

  it("keeps pools and hosts apart", () => {
    const b = new FailureBackoff(new FakeClock(), opts);
    b.failed("ns/p", "h1", "uid-1", 1);
    expect(b.remainingMs("ns/p", "h2")).toBe(0);
    expect(b.remainingMs("ns/q", "h1")).toBe(0);
  });

  it("forgets a host once a desktop created after its last failure comes up there", () => {
    const b = new FailureBackoff(new FakeClock(), opts);
    b.failed("ns/p", "h1", "uid-1", 100);
    b.failed("ns/p", "h1", "uid-2", 200);
    b.succeeded("ns/p", "h1", 150); // older than the last failure: proves nothing
    expect(b.failures("ns/p", "h1")).toBe(2);
    b.succeeded("ns/p", "h1", 300);
    expect(b.failures("ns/p", "h1")).toBe(0);
    expect(b.remainingMs("ns/p", "h1")).toBe(0);
    expect(b.failed("ns/p", "h1", "uid-3", 400)?.delayMs).toBe(5_000);
  });

  it("forgets hosts whose backoff ended long ago", async () => {
    const clock = new FakeClock();
    const b = new FailureBackoff(clock, opts);
    b.failed("ns/p", "h1", "uid-1", 1);
    b.failed("ns/p", "h1", "uid-2", 2);
    await clock.advance(10_000 + 2 * 40_000 + 1);
    b.failed("ns/p", "h2", "uid-3", 3); // any failure collects stale entries
    expect(b.failures("ns/p", "h1")).toBe(0);
  });
});
