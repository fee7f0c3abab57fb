import { describe, expect, it } from "@jest/globals";
import { allocatable, load, remaining } from "../../../src/scheduler/index.js";
import { GiB, host } from "./fixtures.js";

const big = host("big", {
  capacity: { cpuMilli: 64_000, memoryBytes: 512 * GiB },
  allocated: { cpuMilli: 16_000, memoryBytes: 128 * GiB },
});
const small = host("small", {
  capacity: { cpuMilli: 8000, memoryBytes: 32 * GiB },
  allocated: { cpuMilli: 4000, memoryBytes: 16 * GiB },
});
const empty = host("empty", { capacity: { cpuMilli: 4000, memoryBytes: 16 * GiB } });

describe("capacity", () => {
  it("allocatable is capacity × overcommit, disk never overcommitted", () => {
    const h = host("h", { overcommit: { cpu: 4, memory: 1.5 } });
    expect(allocatable(h)).toEqual({ cpuMilli: 64_000, memoryBytes: 96 * GiB, diskBytes: 1024 * GiB });
  });

  it("remaining subtracts the allocation and may be negative", () => {
    const h = host("h", { allocated: { cpuMilli: 20_000, memoryBytes: GiB, diskBytes: GiB, desktops: 3 } });
    expect(remaining(h)).toEqual({ cpuMilli: -4000, memoryBytes: 63 * GiB, diskBytes: 1023 * GiB });
  });
});

describe("load", () => {
  it("is the mean used fraction of allocatable CPU and memory", () => {
    expect(load(big)).toBe(0.25);
    expect(load(small)).toBe(0.5);
    expect(load(empty)).toBe(0);
    expect(load(host("h", { allocated: { cpuMilli: 16_000 } }))).toBe(0.5);
  });

  it("counts overcommit as allocatable", () => {
    expect(load(host("h", { overcommit: { cpu: 4 }, allocated: { cpuMilli: 32_000 } }))).toBe(0.25);
  });

  it("adds the request when asked", () => {
    expect(load(empty, { cpuMilli: 2000, memoryBytes: 4 * GiB })).toBe(0.375);
  });

  it("treats a host without allocatable resources as full once anything is used", () => {
    expect(load(host("h", { capacity: { cpuMilli: 0, memoryBytes: 0 } }))).toBe(0);
    expect(load(host("h", { capacity: { cpuMilli: 0 }, allocated: { cpuMilli: 1 } }))).toBe(0.5);
  });
});
