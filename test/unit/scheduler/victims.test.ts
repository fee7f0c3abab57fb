import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { IdleDesktop } from "../../../src/scheduler/index.js";
import { chooseVictims } from "../../../src/scheduler/index.js";
import { hostsArb } from "./arbitraries.js";
import { GiB, deepFreeze, host } from "./fixtures.js";

const desktops = (hostName: string, n: number): IdleDesktop[] =>
  Array.from({ length: n }, (_, i) => ({ name: `${hostName}-d${i}`, host: hostName }));

// Each host runs 4 desktops of 2 cores/8 GiB; "small" is twice as loaded by fraction as "big".
const big = host("big", {
  capacity: { cpuMilli: 32_000, memoryBytes: 128 * GiB },
  allocated: { cpuMilli: 8000, memoryBytes: 32 * GiB, desktops: 4 },
});
const small = host("small", {
  capacity: { cpuMilli: 16_000, memoryBytes: 64 * GiB },
  allocated: { cpuMilli: 8000, memoryBytes: 32 * GiB, desktops: 4 },
});

describe("chooseVictims", () => {
  const idle = [...desktops("big", 4), ...desktops("small", 4)];

  it("removes from the most loaded host by fraction first, re-measuring after each removal", () => {
    // small: 50% → 37.5% → 25%; big: 25%. Ties go to the smaller host name ("big").
    expect(chooseVictims(idle, [big, small], 4)).toEqual(["small-d0", "small-d1", "big-d0", "small-d2"]);
  });

  it("uses the desktops' own sizes when given", () => {
    const sized = idle.map((d) => ({ ...d, cpuMilli: 8000, memoryBytes: 32 * GiB }));
    expect(chooseVictims(sized, [big, small], 2)).toEqual(["small-d0", "big-d0"]);
  });

  it("takes desktops on unknown, then unavailable hosts first", () => {
    const cordoned = host("z-cordoned", { unschedulable: true });
    const down = host("y-down", { ready: false });
    const pool = [...idle, ...desktops("z-cordoned", 1), ...desktops("gone", 1), ...desktops("y-down", 1)];
    expect(chooseVictims(pool, [big, small, cordoned, down], 4)).toEqual([
      "gone-d0",
      "y-down-d0",
      "z-cordoned-d0",
      "small-d0",
    ]);
  });

  it("is deterministic whatever the input order, and never returns more than asked or available", () => {
    const shuffled = [
      idle[5],
      idle[0],
      idle[7],
      idle[2],
      idle[1],
      idle[6],
      idle[3],
      idle[4],
    ] as IdleDesktop[];
    expect(chooseVictims(shuffled, [small, big], 4)).toEqual(chooseVictims(idle, [big, small], 4));
    expect(chooseVictims(idle, [big, small], 100)).toHaveLength(8);
    expect(new Set(chooseVictims(idle, [big, small], 100)).size).toBe(8);
    expect(chooseVictims(idle, [big, small], 0)).toEqual([]);
    expect(chooseVictims(idle, [big, small], -3)).toEqual([]);
    expect(chooseVictims(idle, [big, small], Number.NaN)).toEqual([]);
    expect(chooseVictims([], [big], 3)).toEqual([]);
  });

  it("does not mutate its inputs", () => {
    const frozenIdle = deepFreeze(idle.map((d) => ({ ...d })));
    const frozenHosts = deepFreeze([host("big"), host("small")]);
    expect(() => chooseVictims(frozenIdle, frozenHosts, 5)).not.toThrow();
  });

  it("returns min(count, idle) distinct idle desktops, independent of input order", () => {
    const arb = hostsArb.chain((hosts) => {
      const names = [...hosts.map((h) => h.name), "gone"];
      const idleArb = fc.uniqueArray(
        fc.record({ name: fc.stringMatching(/^d[0-9]{1,3}$/), host: fc.constantFrom(...names) }),
        { selector: (d) => d.name, maxLength: 30 },
      );
      return fc.tuple(fc.constant(hosts), idleArb, fc.integer({ min: 0, max: 40 }));
    });
    fc.assert(
      fc.property(arb, ([hosts, idle, count]) => {
        const victims = chooseVictims(idle, hosts, count);
        expect(victims).toHaveLength(Math.min(count, idle.length));
        expect(new Set(victims).size).toBe(victims.length);
        expect(victims.every((v) => idle.some((d) => d.name === v))).toBe(true);
        expect(chooseVictims([...idle].reverse(), [...hosts].reverse(), count)).toEqual(victims);
      }),
    );
  });
});
