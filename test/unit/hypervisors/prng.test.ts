import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { drawLatency, mulberry32, seedFromString } from "../../../src/hypervisors/simulated/prng.js";

const take = (seed: number, n: number): number[] => Array.from({ length: n }, mulberry32(seed));

describe("seeded randomness", () => {
  it("gives the same sequence for the same seed and another for another seed", () => {
    expect(take(42, 20)).toEqual(take(42, 20));
    expect(take(42, 20)).not.toEqual(take(43, 20));
  });

  it("stays in [0, 1) for any seed", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (seed) =>
        take(seed, 50).every((x) => x >= 0 && x < 1),
      ),
    );
  });

  it("is roughly uniform", () => {
    const xs = take(1, 20_000);
    const buckets = new Array<number>(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]!++;
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(200);
  });

  it("seeds from strings stably (FNV-1a)", () => {
    expect(seedFromString("")).toBe(0x811c9dc5);
    expect(seedFromString("rack3-node07")).toBe(seedFromString("rack3-node07"));
    expect(seedFromString("rack3-node07")).not.toBe(seedFromString("rack3-node08"));
  });

  it("draws whole, non-negative latencies within mean ± jitter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer({ min: 0, max: 1e6 }),
        fc.integer(),
        (mean, j, seed) => {
          const jitter = Math.min(j, mean);
          const random = mulberry32(seed);
          for (let i = 0; i < 20; i++) {
            const d = drawLatency(random, { mean, jitter });
            if (!Number.isInteger(d) || d < 0 || d < mean - jitter || d > mean + jitter) return false;
          }
          return true;
        },
      ),
    );
  });
});
