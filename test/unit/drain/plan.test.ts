import { describe, expect, it } from "@jest/globals";
import { noticeFor } from "../../../src/controllers/drain/notice.js";
import { drainWindow, planDrain } from "../../../src/controllers/drain/plan.js";
import { T0, host, iso, onHost } from "./fixtures.js";

const started = iso(T0);
const deadline = iso(T0 + 30_000);
const draining = (o: Parameters<typeof host>[1] = {}) =>
  host("h1", {
    drain: { message: "Kernel update." },
    status: { startedAt: started, phase: "Draining" },
    ...o,
  });

describe("drainWindow", () => {
  it("grace period from the recorded start; an absolute deadline as given", () => {
    expect(drainWindow({ message: "m", gracePeriod: "1h30m" }, started)).toEqual({
      startedAt: T0,
      deadline: T0 + 90 * 60_000,
    });
    expect(drainWindow({ message: "m", deadline: "2026-12-01T20:00:00Z" }, started).deadline).toBe(
      Date.parse("2026-12-01T20:00:00Z"),
    );
  });
});

describe("planDrain", () => {
  it("no drain requested: nothing to do, no status", () => {
    const plan = planDrain({ host: host(), desktops: [onHost(), onHost({ idle: true })], now: T0 });
    expect(plan).toMatchObject({ status: undefined, deleteIdle: [], notify: [], withdraw: [] });
    expect(plan.draining.reason).toBe("NoDrainRequested");
    expect(plan.drained.reason).toBe("NoDrainRequested");
  });

  it("waiting for a budget: Pending, nothing touched, the budget's message on both conditions", () => {
    const plan = planDrain({
      host: host("h1", { drain: {} }),
      desktops: [onHost(), onHost({ idle: true })],
      waiting: "pool team-a/cc allows 1 of its 3 hosts out of service",
      now: T0,
    });
    expect(plan.status).toEqual({ phase: "Pending", sessionsLeft: 1 });
    expect(plan.deleteIdle).toEqual([]);
    expect(plan.notify).toEqual([]);
    expect(plan.draining).toEqual({
      status: "False",
      reason: "WaitingForBudget",
      message: "pool team-a/cc allows 1 of its 3 hosts out of service",
    });
    expect(plan.nextAt).toBeUndefined();
  });

  it("started: idle desktops go at once, every live session is told, next look at the first reminder", () => {
    const idle = onHost({ idle: true });
    const users = [onHost(), onHost()];
    const leaving = onHost({ session: { phase: "Ended" } });
    const gone = onHost({ idle: true, deleting: true });
    const plan = planDrain({
      host: draining(),
      desktops: [idle, ...users, leaving, gone],
      startedAt: started,
      now: T0 + 200,
    });
    expect(plan.deleteIdle).toEqual([idle.desktop]);
    expect(plan.notify.map((w) => w.session.metadata.name)).toEqual(
      users.map((u) => u.session?.metadata.name),
    );
    expect(plan.notify[0]?.notice.deadline).toBe(deadline);
    expect(plan.notify[0]?.reason).toBe("DrainNotice");
    expect(plan.status).toEqual({ startedAt: started, deadline, sessionsLeft: 3, phase: "Draining" });
    expect(plan.draining).toMatchObject({ status: "True", reason: "WaitingForLogoff" });
    expect(plan.drained).toEqual({
      status: "False",
      reason: "DesktopsRemaining",
      message: "5 desktop(s) left, 3 of them in use",
    });
    expect(plan.nextAt).toBe(T0 + 15_000);
  });

  it("a session already told this stage is not told again; the next stage is a reminder", () => {
    const request = { message: "Kernel update.", gracePeriod: "30s" };
    const window = { startedAt: T0, deadline: T0 + 30_000 };
    const told = onHost({ session: { notice: noticeFor(request, window, T0).notice } });
    const early = planDrain({ host: draining(), desktops: [told], startedAt: started, now: T0 + 1000 });
    expect(early.notify).toEqual([]);
    const later = planDrain({ host: draining(), desktops: [told], startedAt: started, now: T0 + 15_000 });
    expect(later.notify).toHaveLength(1);
    expect(later.notify[0]?.reason).toBe("DrainReminder");
    expect(later.nextAt).toBe(T0 + 30_000);
  });

  it("past the deadline with forceLogoff: ForcingLogoff, no further timer", () => {
    const plan = planDrain({ host: draining(), desktops: [onHost()], startedAt: started, now: T0 + 30_000 });
    expect(plan.status?.phase).toBe("ForcingLogoff");
    expect(plan.draining).toMatchObject({ status: "True", reason: "ForcingLogoff" });
    expect(plan.nextAt).toBeUndefined();
  });

  it("past the deadline without forceLogoff: still Draining, reason DeadlinePassed", () => {
    const h = draining({ drain: { message: "m", forceLogoff: false } });
    const plan = planDrain({ host: h, desktops: [onHost()], startedAt: started, now: T0 + 40_000 });
    expect(plan.status?.phase).toBe("Draining");
    expect(plan.draining.reason).toBe("DeadlinePassed");
    expect(plan.notify[0]?.notice.deadline).toBeUndefined();
  });

  it("only terminating desktops left: not drained until their VMs are gone", () => {
    const plan = planDrain({
      host: draining(),
      desktops: [onHost({ deleting: true, session: { phase: "Ended" } })],
      startedAt: started,
      now: T0 + 31_000,
    });
    expect(plan.status).toMatchObject({ phase: "Draining", sessionsLeft: 0 });
    expect(plan.drained.status).toBe("False");
  });

  it("no desktop left: Drained", () => {
    const plan = planDrain({ host: draining(), desktops: [], startedAt: started, now: T0 + 5000 });
    expect(plan.status).toEqual({ startedAt: started, deadline, sessionsLeft: 0, phase: "Drained" });
    expect(plan.draining).toMatchObject({ status: "False", reason: "DrainComplete" });
    expect(plan.drained).toMatchObject({ status: "True", reason: "DrainComplete" });
    expect(plan.nextAt).toBeUndefined();
  });

  it("withdrawn mid-drain: DrainAborted, notices withdrawn, status removed", () => {
    const noticed = onHost({ session: { notice: { message: "x", deadline } } });
    const plain = onHost();
    const h = host("h1", { status: { startedAt: started, phase: "Draining" } });
    const plan = planDrain({ host: h, desktops: [noticed, plain], now: T0 + 5000 });
    expect(plan.status).toBeUndefined();
    expect(plan.draining.reason).toBe("DrainAborted");
    expect(plan.withdraw).toEqual([noticed]);
    // The next pass (status gone) still says the last drain was aborted.
    const after = planDrain({ host: host("h1", { draining: "DrainAborted" }), desktops: [], now: T0 + 6000 });
    expect(after.draining.reason).toBe("DrainAborted");
  });

  it("withdrawn after it completed: the host simply returns (NoDrainRequested)", () => {
    const h = host("h1", { status: { startedAt: started, phase: "Drained" } });
    expect(planDrain({ host: h, desktops: [], now: T0 }).draining.reason).toBe("NoDrainRequested");
  });
});
