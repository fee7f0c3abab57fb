import { describe, expect, it } from "@jest/globals";
import type { DesktopRequest, FilterReason, HostView } from "../../../src/scheduler/index.js";
import { FILTERS, runFilters } from "../../../src/scheduler/index.js";
import { GiB, host, request } from "./fixtures.js";

type Case = [name: string, request: DesktopRequest, host: HostView, expected: FilterReason | "ok"];

// 16 cores and 64 GiB by default; the request is 2 cores, 4 GiB, 40 GiB disk.
const cases: Case[] = [
  ["healthy host passes", request(), host("h"), "ok"],
  ["not ready", request(), host("h", { ready: false }), "HostNotReady"],
  ["cordoned", request(), host("h", { unschedulable: true }), "HostCordoned"],
  ["draining", request(), host("h", { draining: true }), "HostDraining"],
  [
    "any hypervisor when unset",
    request({ containerDisk: true }),
    host("h", { hypervisorType: "kubevirt" }),
    "ok",
  ],
  [
    "a KubeVirt host needs a containerDisk",
    request(),
    host("h", { hypervisorType: "kubevirt" }),
    "NoContainerDisk",
  ],
  ["other hosts need none", request(), host("h", { hypervisorType: "libvirt" }), "ok"],
  [
    "any hypervisor when empty",
    request({ hypervisorTypes: [] }),
    host("h", { hypervisorType: "simulated" }),
    "ok",
  ],
  ["hypervisor listed", request({ hypervisorTypes: ["kubevirt", "libvirt"] }), host("h"), "ok"],
  ["hypervisor not listed", request({ hypervisorTypes: ["kubevirt"] }), host("h"), "HypervisorTypeMismatch"],
  [
    "labels match",
    request({ hostSelector: { matchLabels: { zone: "a" } } }),
    host("h", { labels: { zone: "a" } }),
    "ok",
  ],
  ["labels differ", request({ hostSelector: { matchLabels: { zone: "a" } } }), host("h"), "LabelsMismatch"],
  ["backing off after failures", request({ backingOff: new Set(["h"]) }), host("h"), "FailureBackoff"],
  ["another host backing off", request({ backingOff: new Set(["g"]) }), host("h"), "ok"],
  ["cpu exactly fits", request(), host("h", { allocated: { cpuMilli: 14_000 } }), "ok"],
  ["cpu short by 1m", request(), host("h", { allocated: { cpuMilli: 14_001 } }), "InsufficientCPU"],
  [
    "cpu fits thanks to overcommit",
    request(),
    host("h", { allocated: { cpuMilli: 30_000 }, overcommit: { cpu: 2 } }),
    "ok",
  ],
  [
    "cpu fractional overcommit",
    request(),
    host("h", { allocated: { cpuMilli: 22_001 }, overcommit: { cpu: 1.5 } }),
    "InsufficientCPU",
  ],
  [
    "cpu already overfilled",
    request({ cpuMilli: 0 }),
    host("h", { allocated: { cpuMilli: 17_000 } }),
    "InsufficientCPU",
  ],
  ["memory exactly fits", request(), host("h", { allocated: { memoryBytes: 60 * GiB } }), "ok"],
  ["memory short", request(), host("h", { allocated: { memoryBytes: 60 * GiB + 1 } }), "InsufficientMemory"],
  [
    "memory overcommit",
    request(),
    host("h", { allocated: { memoryBytes: 100 * GiB }, overcommit: { memory: 2 } }),
    "ok",
  ],
  [
    "memory overcommit below 1",
    request(),
    host("h", { allocated: { memoryBytes: 30 * GiB }, overcommit: { memory: 0.5 } }),
    "InsufficientMemory",
  ],
  ["disk exactly fits", request(), host("h", { allocated: { diskBytes: 984 * GiB } }), "ok"],
  ["disk short", request(), host("h", { allocated: { diskBytes: 984 * GiB + 1 } }), "InsufficientDisk"],
  [
    "disk is never overcommitted",
    request(),
    host("h", { allocated: { diskBytes: 1000 * GiB }, overcommit: { cpu: 4, memory: 4 } }),
    "InsufficientDisk",
  ],
  ["provisioning below limit", request(), host("h", { provisioning: 3 }), "ok"],
  ["provisioning at limit", request(), host("h", { provisioning: 4 }), "ProvisioningLimit"],
  [
    "no provisioning limit",
    request({ maxProvisioningPerHost: Infinity }),
    host("h", { provisioning: 1000 }),
    "ok",
  ],
  [
    "NaN capacity fails closed",
    request(),
    host("h", { capacity: { cpuMilli: Number.NaN } }),
    "InsufficientCPU",
  ],
  [
    "first failing filter wins",
    request(),
    host("h", { ready: false, unschedulable: true, provisioning: 9 }),
    "HostNotReady",
  ],
  [
    "state before capacity",
    request(),
    host("h", { draining: true, allocated: { cpuMilli: 99_000 } }),
    "HostDraining",
  ],
  [
    "capacity before provisioning",
    request(),
    host("h", { provisioning: 9, allocated: { diskBytes: 1024 * GiB } }),
    "InsufficientDisk",
  ],
];

describe("runFilters", () => {
  it.each(cases.map(([name, ...rest]) => [`${name} → ${rest[2]}`, ...rest] as Case))(
    "%s",
    (_, req, h, expected) => {
      const result = runFilters(req, h);
      expect(result.ok ? "ok" : result.reason).toBe(expected);
    },
  );
});

describe("each filter", () => {
  it("is named and refuses with its own reason only", () => {
    const names = FILTERS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const [, req, h, expected] of cases) {
      const failures = FILTERS.map((f) => f.check(req, h)).filter((r) => !r.ok);
      if (expected === "ok") expect(failures).toEqual([]);
      else expect(failures[0]).toEqual({ ok: false, reason: expected });
    }
  });

  it("run in a fixed order: host state, matching, failure backoff, capacity, provisioning", () => {
    expect(FILTERS.map((f) => f.name)).toEqual([
      "HostReady",
      "HostSchedulable",
      "HostNotDraining",
      "HypervisorType",
      "ImageForm",
      "HostLabels",
      "FailureBackoff",
      "CPUFits",
      "MemoryFits",
      "DiskFits",
      "ProvisioningLimit",
    ]);
  });
});
