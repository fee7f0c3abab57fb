import { describe, expect, it } from "@jest/globals";
import {
  formatDuration,
  nextDrainEvent,
  noticeFor,
  noticeStage,
  reminderLeads,
  sameNotice,
} from "../../../src/controllers/drain/notice.js";
import { T0, iso } from "./fixtures.js";

const S = 1000;
const M = 60 * S;
const window = (totalMs: number) => ({ startedAt: T0, deadline: T0 + totalMs });

describe("reminderLeads", () => {
  it.each([
    ["30s: a tenth (3s) would be too late to act on", 30 * S, [15 * S]],
    ["2m: half, then a tenth (12s)", 2 * M, [60 * S, 12 * S]],
    ["90s: one minute is before half time, a tenth too late", 90 * S, [45 * S]],
    ["5m: half, one minute, a tenth", 5 * M, [150 * S, 60 * S, 30 * S]],
    ["2h", 120 * M, [60 * M, 12 * M, 1 * M]],
    ["10m: a tenth is the one-minute mark, one reminder", 10 * M, [5 * M, 1 * M]],
    ["20s: half time only", 20 * S, [10 * S]],
    ["18s: even half time is too late to act on", 18 * S, []],
    ["a deadline at the start", 0, []],
    ["a deadline before the start", -5 * S, []],
  ])("%s", (_what, total, leads) => {
    expect(reminderLeads(window(total))).toEqual(leads);
  });
});

describe("noticeStage and nextDrainEvent", () => {
  const w = window(30 * S);
  it.each([
    [0, 0, T0 + 15 * S],
    [14_999, 0, T0 + 15 * S],
    [15 * S, 1, T0 + 30 * S],
    [29_999, 1, T0 + 30 * S],
    [30 * S, 1, undefined],
    [45 * S, 1, undefined],
  ])("at +%i ms: stage %i, next %s", (offset, stage, next) => {
    expect(noticeStage(w, T0 + offset)).toBe(stage);
    expect(nextDrainEvent(w, T0 + offset)).toBe(next);
  });
});

describe("noticeFor", () => {
  const w = window(30 * S);
  const deadline = iso(T0 + 30 * S);

  it("first notice: the message, the deadline, and a deadline field for clients", () => {
    const n = noticeFor({ message: "Kernel update tonight." }, w, T0 + 100);
    expect(n).toEqual({
      stage: 0,
      reason: "DrainNotice",
      notice: {
        message: `Kernel update tonight. You will be logged off at ${deadline}; please save your work.`,
        deadline,
      },
    });
  });

  it("reminders say how long is left at their stage, whenever they are computed", () => {
    const a = noticeFor({ message: "M." }, w, T0 + 15 * S);
    const b = noticeFor({ message: "M." }, w, T0 + 20 * S);
    expect(a).toEqual(b);
    expect(a.reason).toBe("DrainReminder");
    expect(a.notice.message).toBe(
      `Reminder: M. You will be logged off at ${deadline} (15s left); please save your work.`,
    );
  });

  it("the notice does not change at the deadline itself (forcing needs no new write)", () => {
    expect(noticeFor({ message: "M." }, w, T0 + 31 * S)).toEqual(
      noticeFor({ message: "M." }, w, T0 + 20 * S),
    );
  });

  it("without forceLogoff: no deadline field, a plea, then a reminder once it passed", () => {
    const req = { message: "M.", forceLogoff: false };
    const first = noticeFor(req, w, T0);
    expect(first.notice).toEqual({ message: `M. Please log off by ${deadline}.` });
    const late = noticeFor(req, w, T0 + 40 * S);
    expect(late.reason).toBe("DrainReminder");
    expect(late.notice.message).toBe(
      `Reminder: M. The maintenance deadline ${deadline} has passed: please log off now.`,
    );
    expect(late.notice.deadline).toBeUndefined();
  });
});

describe("formatDuration", () => {
  it.each([
    [0, "0s"],
    [400, "0s"],
    [45 * S, "45s"],
    [60 * S, "1m"],
    [125 * S, "2m5s"],
    [90 * M, "1h30m"],
    [2 * 60 * M + 3 * S, "2h3s"],
  ])("%i ms → %s", (ms, text) => expect(formatDuration(ms)).toBe(text));
});

describe("sameNotice", () => {
  it.each([
    [undefined, undefined, true],
    [undefined, { message: "a" }, false],
    [{ message: "a" }, { message: "a" }, true],
    [{ message: "a", deadline: "x" }, { message: "a" }, false],
    [{ message: "a", deadline: "x" }, { message: "a", deadline: "x" }, true],
    [{ message: "a" }, { message: "b" }, false],
  ])("%j vs %j → %s", (a, b, same) => expect(sameNotice(a, b)).toBe(same));
});
