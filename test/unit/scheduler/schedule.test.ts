import { describe, expect, it } from "@jest/globals";
import type { ScheduleResult } from "../../../src/scheduler/index.js";
import { schedule, scheduleBatch, unschedulableMessage } from "../../../src/scheduler/index.js";
import { GiB, host, request } from "./fixtures.js";

const hostOf = (r: ScheduleResult): string | null => r.host;

describe("schedule", () => {
  it("places on the best feasible host", () => {
    const hosts = [
      host("busy", { allocated: { cpuMilli: 8000 } }),
      host("idle"),
      host("down", { ready: false }),
    ];
    expect(schedule(request(), hosts)).toEqual({ host: "idle" });
    expect(schedule(request({ strategy: "DepthFirst" }), hosts)).toEqual({ host: "busy" });
  });

  it("explains a failure like Kubernetes, one reason per host", () => {
    const full = { allocated: { memoryBytes: 63 * GiB } };
    const hosts = [
      host("a", { unschedulable: true }),
      host("b", full),
      host("c", { unschedulable: true }),
      host("d", full),
      host("e", full),
    ];
    expect(schedule(request(), hosts)).toEqual({
      host: null,
      reasons: { HostCordoned: 2, InsufficientMemory: 3 },
      message: "0/5 hosts are available: 2 HostCordoned, 3 InsufficientMemory.",
    });
  });

  it("reports no hosts at all", () => {
    expect(schedule(request(), [])).toEqual({ host: null, reasons: {}, message: "0/0 hosts are available." });
  });

  it.each([
    [{ cpuMilli: -1 }, "cpuMilli must be a finite, non-negative number, got -1"],
    [{ memoryBytes: Number.NaN }, "memoryBytes must be a finite, non-negative number, got NaN"],
    [{ maxProvisioningPerHost: 0 }, "maxProvisioningPerHost must be an integer of at least 1"],
    [{ maxProvisioningPerHost: 1.5 }, "maxProvisioningPerHost must be an integer of at least 1"],
    [{ strategy: "Random" as "DepthFirst" }, 'unknown strategy "Random"'],
    [
      { hostSelector: { matchExpressions: [{ key: "zone", operator: "In" as const }] } },
      'hostSelector.matchExpressions[0] (key "zone"): operator In needs at least one value',
    ],
  ])("refuses an invalid request %j", (override, message) => {
    const result = schedule(request(override), [host("a"), host("b")]);
    expect(result.host).toBeNull();
    expect(result).toMatchObject({ reasons: { InvalidRequest: 2 } });
    expect(result.host === null && result.message).toContain(`invalid request: ${message}`);
  });
});

describe("unschedulableMessage", () => {
  it.each([
    [3, { InsufficientCPU: 3 }, "0/3 hosts are available: 3 InsufficientCPU."],
    [1, { HostNotReady: 1 }, "0/1 hosts are available: 1 HostNotReady."],
    [
      6,
      { ProvisioningLimit: 1, HostDraining: 2, InsufficientDisk: 3 },
      "0/6 hosts are available: 2 HostDraining, 3 InsufficientDisk, 1 ProvisioningLimit.",
    ],
    [
      2,
      { LabelsMismatch: 0, HypervisorTypeMismatch: 2 },
      "0/2 hosts are available: 2 HypervisorTypeMismatch.",
    ],
    [0, {}, "0/0 hosts are available."],
  ])("%d hosts, %j", (total, reasons, message) => {
    expect(unschedulableMessage(total, reasons)).toBe(message);
  });
});

describe("scheduleBatch", () => {
  it("returns one result per request, in order, and never overfills a host", () => {
    // Room for exactly 3 desktops of 2 cores on "a" and 1 on "b".
    const hosts = [host("a", { capacity: { cpuMilli: 6000 } }), host("b", { capacity: { cpuMilli: 2000 } })];
    const results = scheduleBatch(
      Array.from({ length: 5 }, () => request()),
      hosts,
    );
    expect(results.map(hostOf)).toEqual(["a", "a", "b", "a", null]);
    expect(results[4]).toMatchObject({ message: "0/2 hosts are available: 2 InsufficientCPU." });
  });

  it("counts its own placements against maxProvisioningPerHost", () => {
    const results = scheduleBatch(
      Array.from({ length: 5 }, () => request({ maxProvisioningPerHost: 2 })),
      [host("a"), host("b", { provisioning: 1 })],
    );
    expect(results.map(hostOf)).toEqual(["a", "b", "a", null, null]);
    expect(results[3]).toMatchObject({ reasons: { ProvisioningLimit: 2 } });
  });

  it("spreads BreadthFirst and packs DepthFirst", () => {
    const hosts = [host("a"), host("b"), host("c")];
    expect(
      scheduleBatch(
        [1, 2, 3, 4].map(() => request()),
        hosts,
      ).map(hostOf),
    ).toEqual(["a", "b", "c", "a"]);
    const depth = [1, 2, 3, 4].map(() => request({ strategy: "DepthFirst", maxProvisioningPerHost: 10 }));
    expect(scheduleBatch(depth, hosts).map(hostOf)).toEqual(["a", "a", "a", "a"]);
  });

  it("mixes requests of different pools and sizes", () => {
    const hosts = [host("a", { capacity: { memoryBytes: 8 * GiB } }), host("b", { labels: { gpu: "yes" } })];
    const results = scheduleBatch(
      [
        request({ memoryBytes: 6 * GiB }),
        request({ pool: "gpu", hostSelector: { matchLabels: { gpu: "yes" } } }),
        request({ memoryBytes: 6 * GiB, hypervisorTypes: ["kubevirt"] }),
      ],
      hosts,
    );
    expect(results.map(hostOf)).toEqual(["b", "b", null]);
  });

  it("uses the first view of a host listed twice", () => {
    const hosts = [host("a", { capacity: { cpuMilli: 2000 } }), host("a")];
    expect(scheduleBatch([request(), request()], hosts).map(hostOf)).toEqual(["a", null]);
  });
});
