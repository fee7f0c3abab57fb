import { describe, expect, it } from "@jest/globals";
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialFailureRateLimiter,
} from "../../../src/runtime/ratelimit.js";
import { backoffDelay } from "../../../src/runtime/backoff.js";
import { FakeClock } from "./fake-clock.js";

describe("ItemExponentialFailureRateLimiter", () => {
  it("doubles from 5 ms per failure and caps at 1000 s", () => {
    const rl = new ItemExponentialFailureRateLimiter<string>();
    const delays = Array.from({ length: 30 }, () => rl.when("a"));
    expect(delays.slice(0, 5)).toEqual([5, 10, 20, 40, 80]);
    expect(delays[17]).toBe(5 * 2 ** 17); // 655.36 s, still under the cap
    expect(delays[18]).toBe(1_000_000);
    expect(delays[29]).toBe(1_000_000);
    expect(rl.numRequeues("a")).toBe(30);
  });

  it("keeps a separate history per item and forgets on request", () => {
    const rl = new ItemExponentialFailureRateLimiter<string>();
    rl.when("a");
    rl.when("a");
    expect(rl.when("b")).toBe(5);
    rl.forget("a");
    expect(rl.when("a")).toBe(5);
  });

  it("stays finite after very many failures", () => {
    const rl = new ItemExponentialFailureRateLimiter<string>();
    let last = 0;
    for (let i = 0; i < 2000; i++) last = rl.when("a");
    expect(last).toBe(1_000_000);
  });
});

describe("BucketRateLimiter", () => {
  it("lets a burst through, then spaces requests at 1/qps, and refills over time", async () => {
    const clock = new FakeClock();
    const rl = new BucketRateLimiter<string>(clock, 10, 100);
    for (let i = 0; i < 100; i++) expect(rl.when(`i${i}`)).toBe(0);
    expect(rl.when("x")).toBeCloseTo(100);
    expect(rl.when("y")).toBeCloseTo(200);
    await clock.advance(10_000); // 100 tokens refilled, minus the 2 overdrawn
    expect(rl.when("z")).toBe(0);
  });
});

describe("defaultControllerRateLimiter", () => {
  it("takes the larger of the per-item backoff and the global bucket", () => {
    const clock = new FakeClock();
    const rl = defaultControllerRateLimiter<string>(clock);
    expect(rl.when("a")).toBe(5);
    for (let i = 0; i < 99; i++) rl.when(`other${i}`);
    // The bucket is empty now: a fresh item waits for a token, not 5 ms.
    expect(rl.when("fresh")).toBeCloseTo(100);
    expect(rl.numRequeues("a")).toBe(1);
  });
});

describe("backoffDelay", () => {
  it("grows from the initial delay to the cap, jittered into the upper half", () => {
    const opts = { initialMs: 500, maxMs: 30_000 };
    expect(backoffDelay(1, opts, () => 0)).toBe(250);
    expect(backoffDelay(1, opts, () => 1)).toBe(500);
    expect(backoffDelay(3, opts, () => 1)).toBe(2000);
    expect(backoffDelay(20, opts, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, opts, () => 0.5)).toBe(22_500);
  });
});
