import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { DrainAdmission } from "../../../src/controllers/drain/admission.js";
import {
  allowedUnavailable,
  checkBudget,
  drainStarted,
  fleetHost,
  type FleetHost,
  type PoolBudget,
} from "../../../src/controllers/drain/budget.js";
import type { HostNode } from "../../../src/api/types.generated.js";
import { T0, host, iso, pool } from "./fixtures.js";

describe("allowedUnavailable", () => {
  it.each([
    [undefined, 10, 1],
    [0, 10, 0],
    [2, 10, 2],
    [2, 1, 2],
    ["0%", 10, 0],
    ["10%", 10, 1],
    ["10%", 5, 1],
    ["25%", 10, 2],
    ["50%", 6, 3],
    ["100%", 6, 6],
    ["10%", 0, 0],
  ] as const)("%j of %i eligible hosts → %i", (max, eligible, allowed) => {
    expect(allowedUnavailable(max, eligible)).toBe(allowed);
  });
});

const fleet = (n: number, labels: Record<string, string>, out: number[] = []): FleetHost[] =>
  Array.from({ length: n }, (_, i) => ({
    name: `h${i}`,
    labels,
    hypervisorType: "simulated",
    unavailable: out.includes(i),
  }));

describe("checkBudget", () => {
  const rack: PoolBudget = {
    pool: "team-a/cc",
    hostSelector: { matchLabels: { rack: "3" } },
    maxUnavailableHosts: 2,
  };

  it("admits while the pool stays within its budget, then names the pool", () => {
    const hosts = fleet(6, { rack: "3" }, [0]);
    expect(checkBudget("h1", hosts, [rack])).toEqual({ ok: true });
    const full = fleet(6, { rack: "3" }, [0, 1]);
    const verdict = checkBudget("h2", full, [rack]);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok === false && verdict.message).toBe(
      "pool team-a/cc allows 2 of its 6 hosts out of service (maxUnavailableHosts 2); already out: h0, h1",
    );
  });

  it("a host already out of service (cordoned, NotReady) does not count twice", () => {
    expect(checkBudget("h1", fleet(6, { rack: "3" }, [0, 1]), [rack])).toEqual({ ok: true });
  });

  it("pools the host does not serve do not constrain it", () => {
    const other: PoolBudget = {
      pool: "team-b/kb",
      hostSelector: { matchLabels: { rack: "4" } },
      maxUnavailableHosts: 0,
    };
    const byType: PoolBudget = { pool: "team-b/kv", hypervisorTypes: ["kubevirt"], maxUnavailableHosts: 0 };
    expect(checkBudget("h0", fleet(3, { rack: "3" }), [other, byType])).toEqual({ ok: true });
  });

  it("every pool the host serves must agree", () => {
    const strict: PoolBudget = { pool: "team-b/all", maxUnavailableHosts: "0%" };
    const verdict = checkBudget("h0", fleet(3, { rack: "3" }), [rack, strict]);
    expect(verdict).toMatchObject({ ok: false, pool: "team-b/all" });
  });

  it("a host that is not in the fleet list is not constrained", () => {
    expect(checkBudget("ghost", fleet(2, {}), [rack])).toEqual({ ok: true });
  });
});

describe("budgets hold for any order of drain requests (property)", () => {
  it("admitting greedily never takes more of any pool's hosts out than it allows", () => {
    const labelsArb = fc.record({ rack: fc.constantFrom("1", "2"), zone: fc.constantFrom("a", "b") });
    const poolArb = fc.record({
      sel: fc.constantFrom<Record<string, string>>(
        {},
        { rack: "1" },
        { zone: "a" },
        { rack: "2", zone: "b" },
      ),
      max: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom("0%", "10%", "34%", "50%")),
    });
    fc.assert(
      fc.property(
        fc.array(labelsArb, { minLength: 1, maxLength: 12 }),
        fc.array(poolArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (labels, poolSpecs, order) => {
          const hosts: FleetHost[] = labels.map((l, i) => ({
            name: `h${i}`,
            labels: l,
            hypervisorType: "simulated",
            unavailable: false,
          }));
          const pools: PoolBudget[] = poolSpecs.map((p, i) => ({
            pool: `p${i}`,
            hostSelector: { matchLabels: p.sel },
            maxUnavailableHosts: p.max,
          }));
          for (const pick of order) {
            const h = hosts[pick % hosts.length] as FleetHost;
            if (!h.unavailable && checkBudget(h.name, hosts, pools).ok) h.unavailable = true;
          }
          for (const p of pools) {
            const eligible = hosts.filter((h) =>
              Object.entries(p.hostSelector?.matchLabels ?? {}).every(([k, v]) => h.labels[k] === v),
            );
            const out = eligible.filter((h) => h.unavailable).length;
            expect(out).toBeLessThanOrEqual(allowedUnavailable(p.maxUnavailableHosts, eligible.length));
          }
        },
      ),
    );
  });
});

describe("fleetHost and drainStarted", () => {
  it.each<[string, boolean, HostNode]>([
    ["ready and schedulable", false, host("a")],
    ["not ready", true, host("a", { ready: false })],
    ["cordoned", true, host("a", { unschedulable: true })],
    ["returned, but its status still says not Schedulable", true, host("a", { schedulable: false })],
    ["drain requested, not started", false, host("a", { drain: {} })],
    ["drain started", true, host("a", { drain: {}, status: { startedAt: iso(T0), phase: "Draining" } })],
    ["stale drain status without a request", false, host("a", { status: { startedAt: iso(T0) } })],
  ])("%s → unavailable %s", (_what, out, h) => {
    expect(fleetHost(h, false).unavailable).toBe(out);
  });
  it("only a requested drain with a recorded start has started", () => {
    expect(drainStarted(host("a", { drain: {} }))).toBe(false);
    expect(drainStarted(host("a", { drain: {}, status: { startedAt: iso(T0) } }))).toBe(true);
    expect(drainStarted(undefined)).toBe(false);
  });
});

describe("DrainAdmission", () => {
  const clock = { now: () => T0, setTimeout: () => () => undefined };
  const rack = pool("cc", { maintenance: { maxUnavailableHosts: 1 } });

  it("counts an admission the cache has not shown yet, so the last slot goes once", () => {
    const admission = new DrainAdmission(clock);
    const a = host("a", { drain: {} });
    const b = host("b", { drain: {} });
    expect(admission.admit(a, [a, b], [rack])).toEqual({ admitted: true, startedAt: iso(T0) });
    const second = admission.admit(b, [a, b], [rack]);
    expect(second.admitted).toBe(false);
    // Asked again before the cache caught up: the same start time, not a new one.
    expect(admission.admit(a, [a, b], [rack])).toEqual({ admitted: true, startedAt: iso(T0) });
    admission.forget("a");
    expect(admission.admit(b, [a, b], [rack]).admitted).toBe(true);
  });

  it("a recorded start wins and a deleted pool no longer constrains", () => {
    const admission = new DrainAdmission(clock);
    const a = host("a", { drain: {}, status: { startedAt: "2026-12-01T17:00:00Z", phase: "Draining" } });
    const b = host("b", { drain: {} });
    expect(admission.admit(a, [a, b], [rack])).toEqual({ admitted: true, startedAt: "2026-12-01T17:00:00Z" });
    expect(admission.admit(b, [a, b], [rack]).admitted).toBe(false);
    const gone = { ...rack, metadata: { ...rack.metadata, deletionTimestamp: iso(T0) } };
    expect(admission.admit(b, [a, b], [gone]).admitted).toBe(true);
  });

  it("records the start in whole seconds, rounded up, so users never get less than the grace period", () => {
    const admission = new DrainAdmission({ now: () => T0 + 200, setTimeout: () => () => undefined });
    const a = host("a", { drain: {} });
    expect(admission.admit(a, [a], [])).toEqual({ admitted: true, startedAt: iso(T0 + 1000) });
  });

  it("forgets an admission after its TTL", () => {
    let now = T0;
    const admission = new DrainAdmission({ now: () => now, setTimeout: () => () => undefined }, 1000);
    const a = host("a", { drain: {} });
    const b = host("b", { drain: {} });
    admission.admit(a, [a, b], [rack]);
    now += 1001;
    expect(admission.admit(b, [a, b], [rack]).admitted).toBe(true);
  });
});
