// Property-based tests of placement: invariants that must hold for any hosts and requests.

import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import type { DesktopRequest, HostView } from "../../../src/scheduler/index.js";
import { matchesSelector, schedule, scheduleBatch } from "../../../src/scheduler/index.js";
import { IMAGES, batchArb, hostsArb, requestArb } from "./arbitraries.js";
import { GiB, deepFreeze, host, request } from "./fixtures.js";

/** Placements per host name, in request order. */
function placements(requests: readonly DesktopRequest[], hosts: readonly HostView[]) {
  const results = scheduleBatch(requests, hosts);
  const byHost = new Map<string, DesktopRequest[]>(hosts.map((h) => [h.name, []]));
  results.forEach((r, i) => {
    if (r.host !== null) byHost.get(r.host)?.push(requests[i] as DesktopRequest);
  });
  return { results, byHost };
}

describe("scheduleBatch properties", () => {
  it("(a) never takes a host beyond capacity × overcommit (CPU, memory) or capacity (disk)", () => {
    fc.assert(
      fc.property(batchArb, ([requests, hosts]) => {
        const { byHost } = placements(requests, hosts);
        for (const h of hosts) {
          const placed = byHost.get(h.name) ?? [];
          if (placed.length === 0) continue;
          const sum = (f: (r: DesktopRequest) => number) => placed.reduce((s, r) => s + f(r), 0);
          expect(h.allocated.cpuMilli + sum((r) => r.cpuMilli)).toBeLessThanOrEqual(
            h.capacity.cpuMilli * h.overcommit.cpu,
          );
          expect(h.allocated.memoryBytes + sum((r) => r.memoryBytes)).toBeLessThanOrEqual(
            h.capacity.memoryBytes * h.overcommit.memory,
          );
          expect(h.allocated.diskBytes + sum((r) => r.diskBytes)).toBeLessThanOrEqual(h.capacity.diskBytes);
        }
      }),
      { numRuns: 300 },
    );
  });

  it("(b) places only on ready, uncordoned, undrained hosts of a matching type and labels", () => {
    fc.assert(
      fc.property(batchArb, ([requests, hosts]) => {
        const { byHost } = placements(requests, hosts);
        for (const h of hosts) {
          for (const r of byHost.get(h.name) ?? []) {
            expect(h.ready && !h.unschedulable && !h.draining).toBe(true);
            if (r.hypervisorTypes?.length) expect(r.hypervisorTypes).toContain(h.hypervisorType);
            expect(matchesSelector(r.hostSelector, h.labels)).toBe(true);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("(c) never lets a host's provisioning count exceed maxProvisioningPerHost", () => {
    fc.assert(
      fc.property(batchArb, ([requests, hosts]) => {
        const { byHost } = placements(requests, hosts);
        for (const h of hosts) {
          (byHost.get(h.name) ?? []).forEach((r, earlier) => {
            expect(h.provisioning + earlier + 1).toBeLessThanOrEqual(r.maxProvisioningPerHost);
          });
        }
      }),
      { numRuns: 300 },
    );
  });

  it("(d) never mutates its inputs", () => {
    fc.assert(
      fc.property(batchArb, ([requests, hosts]) => {
        const before = structuredClone([requests, hosts]);
        deepFreeze([requests, hosts]);
        scheduleBatch(requests, hosts);
        requests.forEach((r) => schedule(r, hosts));
        expect([requests, hosts]).toEqual(before);
      }),
    );
  });

  it("(e) BreadthFirst spreads k × n equal requests over n equal hosts evenly", () => {
    const arb = fc.record({
      n: fc.integer({ min: 1, max: 8 }),
      k: fc.integer({ min: 1, max: 6 }),
      cpuMilli: fc.integer({ min: 0, max: 4000 }),
      memGiB: fc.integer({ min: 0, max: 8 }),
      cached: fc.subarray(IMAGES),
    });
    fc.assert(
      fc.property(arb, ({ n, k, cpuMilli, memGiB, cached }) => {
        const size = { cpuMilli: 64_000, memoryBytes: 256 * GiB };
        const hosts = Array.from({ length: n }, (_, i) =>
          host(`host-${i}`, { capacity: size, cachedImages: cached }),
        );
        const req = request({
          cpuMilli,
          memoryBytes: memGiB * GiB,
          diskBytes: GiB,
          maxProvisioningPerHost: k,
        });
        const { results, byHost } = placements(Array(n * k).fill(req), hosts);
        expect(results.every((r) => r.host !== null)).toBe(true);
        const counts = [...byHost.values()].map((p) => p.length);
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

const hostsAndShuffled = hostsArb.chain((hosts) =>
  fc.tuple(fc.constant(hosts), fc.shuffledSubarray(hosts, { minLength: hosts.length })),
);

describe("schedule properties", () => {
  it("is independent of host order, and explains every refused host exactly once", () => {
    fc.assert(
      fc.property(requestArb, hostsAndShuffled, (req, [hosts, shuffled]) => {
        const result = schedule(req, hosts);
        expect(schedule(req, shuffled)).toEqual(result);
        if (result.host === null) {
          const total = Object.values(result.reasons).reduce((s, n) => s + (n ?? 0), 0);
          expect(total).toBe(hosts.length);
          expect(result.message).toMatch(new RegExp(`^0/${hosts.length} hosts are available`));
        }
      }),
    );
  });
});
