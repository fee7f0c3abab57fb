import { describe, expect, it } from "@jest/globals";
import { findCondition, isConditionTrue, setCondition } from "../../../src/api/conditions.js";
import type { ConditionUpdate } from "../../../src/api/conditions.js";
import { toKubeTime } from "../../../src/api/time.js";
import type { Condition } from "../../../src/api/types.generated.js";

const T0 = "2026-01-01T10:00:00Z";
const NOW = new Date("2026-01-01T12:34:56.789Z");
const NOW_TEXT = "2026-01-01T12:34:56Z";

const ready = (over: Partial<Condition> = {}): Condition => ({
  type: "Ready",
  status: "True",
  observedGeneration: 1,
  lastTransitionTime: T0,
  reason: "PoolReady",
  message: "3 of 3 warm desktops available",
  ...over,
});
const hosts: Condition = {
  type: "HostsAvailable",
  status: "True",
  lastTransitionTime: T0,
  reason: "HostsFound",
  message: "2 hosts",
};

interface Case {
  name: string;
  before: Condition[] | undefined;
  update: ConditionUpdate;
  generation: number | undefined;
  after: Condition[];
}

const cases: Case[] = [
  {
    name: "adds a condition to an absent list",
    before: undefined,
    update: { type: "Ready", status: "False", reason: "Provisioning", message: "0 of 3" },
    generation: 1,
    after: [
      ready({ status: "False", reason: "Provisioning", message: "0 of 3", lastTransitionTime: NOW_TEXT }),
    ],
  },
  {
    name: "appends a new type after the existing ones",
    before: [ready()],
    update: { type: "HostsAvailable", status: "True", reason: "HostsFound", message: "2 hosts" },
    generation: undefined,
    after: [ready(), { ...hosts, lastTransitionTime: NOW_TEXT }],
  },
  {
    name: "keeps lastTransitionTime when only the reason and message change",
    before: [ready()],
    update: { type: "Ready", status: "True", reason: "PoolReady", message: "5 of 5 warm desktops available" },
    generation: 2,
    after: [ready({ message: "5 of 5 warm desktops available", observedGeneration: 2 })],
  },
  {
    name: "moves lastTransitionTime when the status flips",
    before: [ready(), hosts],
    update: { type: "Ready", status: "False", reason: "NoEligibleHosts", message: "no host matches" },
    generation: 1,
    after: [
      ready({
        status: "False",
        reason: "NoEligibleHosts",
        message: "no host matches",
        lastTransitionTime: NOW_TEXT,
      }),
      hosts,
    ],
  },
  {
    name: "treats Unknown as a status of its own",
    before: [ready()],
    update: { type: "Ready", status: "Unknown", reason: "HeartbeatExpired", message: "" },
    generation: 1,
    after: [
      ready({ status: "Unknown", reason: "HeartbeatExpired", message: "", lastTransitionTime: NOW_TEXT }),
    ],
  },
  {
    name: "drops observedGeneration when none is given",
    before: [ready()],
    update: { type: "Ready", status: "True", reason: "PoolReady", message: "3 of 3 warm desktops available" },
    generation: undefined,
    after: [
      {
        type: "Ready",
        status: "True",
        lastTransitionTime: T0,
        reason: "PoolReady",
        message: "3 of 3 warm desktops available",
      },
    ],
  },
  {
    name: "updates a condition in the middle without reordering",
    before: [hosts, ready(), { ...hosts, type: "BufferSatisfied", reason: "BufferFull" }],
    update: { type: "Ready", status: "True", reason: "PoolReady", message: "changed" },
    generation: 1,
    after: [
      hosts,
      ready({ message: "changed" }),
      { ...hosts, type: "BufferSatisfied", reason: "BufferFull" },
    ],
  },
];

describe("setCondition", () => {
  it.each(cases)("$name", ({ before, update, generation, after }) => {
    const snapshot = structuredClone(before);
    expect(setCondition(before, update, generation, NOW)).toEqual(after);
    expect(before).toEqual(snapshot); // input untouched: it may be an informer's cached object
  });

  it("keeps the identity of an unchanged condition and of untouched ones", () => {
    const before = [ready(), hosts];
    const after = setCondition(
      before,
      { type: "Ready", status: "True", reason: "PoolReady", message: ready().message },
      1,
      NOW,
    );
    expect(after).not.toBe(before);
    expect(after[0]).toBe(before[0]);
    expect(after[1]).toBe(before[1]);
  });

  it("replaces the object of a changed condition", () => {
    const before = [ready()];
    const after = setCondition(
      before,
      { type: "Ready", status: "True", reason: "PoolReady", message: "new" },
      1,
      NOW,
    );
    expect(after[0]).not.toBe(before[0]);
  });
});

describe("findCondition and isConditionTrue", () => {
  const list = [ready(), { ...hosts, status: "False" as const }];
  it.each([
    { type: "Ready", found: true, isTrue: true },
    { type: "HostsAvailable", found: true, isTrue: false },
    { type: "BufferSatisfied", found: false, isTrue: false },
  ])("$type", ({ type, found, isTrue }) => {
    expect(findCondition(list, type) !== undefined).toBe(found);
    expect(isConditionTrue(list, type)).toBe(isTrue);
  });
  it("accepts an absent list", () => {
    expect(findCondition(undefined, "Ready")).toBeUndefined();
    expect(isConditionTrue(undefined, "Ready")).toBe(false);
  });
});

describe("toKubeTime", () => {
  it.each([
    [new Date("2026-03-04T05:06:07.890Z"), "2026-03-04T05:06:07Z"],
    [new Date("2026-03-04T05:06:07Z"), "2026-03-04T05:06:07Z"],
    [new Date(Date.UTC(1999, 11, 31, 23, 59, 59, 999)), "1999-12-31T23:59:59Z"],
  ])("%s -> %s", (date, text) => {
    expect(toKubeTime(date)).toBe(text);
  });
});
