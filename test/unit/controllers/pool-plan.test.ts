import { describe, expect, it } from "@jest/globals";
import { planPool } from "../../../src/controllers/pool/plan.js";
import { desktop, pool } from "./fixtures.js";

/** Every host vouched for but "gone" (no agent reports for it). */
const vouched = (host: string): boolean => host !== "gone";

describe("planPool", () => {
  const cases: {
    name: string;
    spec: Parameters<typeof pool>[0];
    desktops: () => ReturnType<typeof desktop>[];
    waiting?: number;
    create: number;
    scaleIn: number;
    replace?: number;
  }[] = [
    { name: "empty pool fills its buffer", spec: { buffer: 3 }, desktops: () => [], create: 3, scaleIn: 0 },
    {
      name: "min counts bound desktops",
      spec: { min: 4 },
      desktops: () => [desktop("InUse", { bound: true })],
      create: 3,
      scaleIn: 0,
    },
    {
      name: "provisioning desktops count towards the buffer",
      spec: { buffer: 2 },
      desktops: () => [desktop("Provisioning"), desktop(undefined)],
      create: 0,
      scaleIn: 0,
    },
    {
      name: "waiting sessions add on-demand desktops",
      spec: { buffer: 1 },
      desktops: () => [],
      waiting: 4,
      create: 5,
      scaleIn: 0,
    },
    {
      name: "never above max",
      spec: { buffer: 5, max: 3 },
      desktops: () => [desktop("InUse", { bound: true })],
      create: 2,
      scaleIn: 0,
    },
    {
      name: "surplus idle desktops scale in",
      spec: { buffer: 1 },
      desktops: () => [desktop("Available"), desktop("Available"), desktop("Available")],
      create: 0,
      scaleIn: 2,
    },
    {
      name: "bound desktops are never scaled in",
      spec: { buffer: 0 },
      desktops: () => [desktop("InUse", { bound: true }), desktop("InUse", { bound: true })],
      create: 0,
      scaleIn: 0,
    },
    {
      name: "failed unbound desktops are replaced",
      spec: { buffer: 2 },
      desktops: () => [desktop("Failed"), desktop("Available")],
      create: 1,
      scaleIn: 0,
      replace: 1,
    },
    {
      name: "desktops of an old image are replaced while bound ones stay",
      spec: { buffer: 1 },
      desktops: () => [desktop("Available", { hash: "old" }), desktop("InUse", { bound: true, hash: "old" })],
      create: 1,
      scaleIn: 0,
      replace: 1,
    },
    {
      name: "terminating desktops are ignored",
      spec: { buffer: 1 },
      desktops: () => [desktop("Available", { deleting: true })],
      create: 1,
      scaleIn: 0,
    },
    {
      name: "warm desktops on a host nobody vouches for neither fill the buffer nor take room under max",
      spec: { buffer: 2, max: 3 },
      desktops: () => [desktop("Available", { host: "gone" }), desktop("Available", { host: "gone" })],
      create: 2,
      scaleIn: 0,
    },
    {
      name: "max lowered below what exists scales idle in",
      spec: { buffer: 0, max: 1 },
      desktops: () => [desktop("InUse", { bound: true }), desktop("Available"), desktop("Available")],
      create: 0,
      scaleIn: 2,
    },
  ];
  it.each(cases)("$name", ({ spec, desktops, waiting, create, scaleIn, replace }) => {
    const plan = planPool(pool(spec), desktops(), waiting ?? 0, vouched);
    expect(plan.create).toBe(create);
    expect(plan.scaleIn).toBe(scaleIn);
    expect(plan.replace).toHaveLength(replace ?? 0);
  });

  it("counts desktops by phase", () => {
    const plan = planPool(
      pool({ buffer: 1 }),
      [desktop("Available"), desktop("Provisioning"), desktop("InUse", { bound: true }), desktop("Failed")],
      0,
      vouched,
    );
    expect(plan.counts).toEqual({ replicas: 4, available: 1, provisioning: 1, inUse: 1, failed: 1 });
  });

  it("counts a desktop on a host nobody vouches for in replicas only", () => {
    const plan = planPool(
      pool({ buffer: 1 }),
      [desktop("Available", { host: "gone" }), desktop("Available")],
      0,
      vouched,
    );
    expect(plan.counts).toEqual({ replicas: 2, available: 1, provisioning: 0, inUse: 0, failed: 0 });
    expect(plan.idle.map((d) => d.spec.hostRef)).toEqual(["h1"]);
  });

  it("reports atMax when the buffer cannot grow", () => {
    const plan = planPool(pool({ buffer: 2, max: 1 }), [desktop("InUse", { bound: true })], 0, vouched);
    expect(plan.atMax).toBe(true);
    expect(plan.create).toBe(0);
  });
});
