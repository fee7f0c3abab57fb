import { describe, expect, it } from "@jest/globals";
import { drainVerdict, earliest } from "../../../src/controllers/drain/session.js";
import { drainTransition } from "../../../src/controllers/drain/transitions.js";
import { T0, host, iso, onHost } from "./fixtures.js";

const deadline = iso(T0 + 30_000);
const force = host("h1", { drain: { message: "Kernel update." }, status: { startedAt: iso(T0), deadline } });
const noticed = onHost({ session: { notice: { message: "x", deadline } } }).session;

describe("drainVerdict", () => {
  it("before the deadline: look again exactly then", () => {
    expect(drainVerdict(noticed!, force, T0 + 10_000)).toEqual({ nextCheckMs: 20_000 });
  });
  it("at the deadline: end the session with HostDrained and the host's message", () => {
    expect(drainVerdict(noticed!, force, T0 + 30_000)).toEqual({
      end: { reason: "HostDrained", message: "host h1 was drained for maintenance: Kernel update." },
    });
  });
  it.each([
    ["no notice", onHost().session, force],
    ["a notice without a deadline", onHost({ session: { notice: { message: "x" } } }).session, force],
    ["the drain was withdrawn", noticed, host("h1", { status: { deadline } })],
    [
      "forceLogoff is off",
      noticed,
      host("h1", { drain: { forceLogoff: false }, status: { startedAt: iso(T0), deadline } }),
    ],
    ["no host", noticed, undefined],
  ])("never ends: %s", (_what, session, h) => {
    expect(drainVerdict(session!, h, T0 + 60_000)).toEqual({});
  });
  it("a notice from another drain (other deadline) ends nothing; it is looked at again shortly", () => {
    const other = host("h1", { drain: {}, status: { startedAt: iso(T0), deadline: iso(T0 + 90_000) } });
    expect(drainVerdict(noticed!, other, T0 + 60_000)).toEqual({ nextCheckMs: 1000 });
  });
});

describe("earliest", () => {
  it.each([
    [{}, {}, {}],
    [{ nextCheckMs: 5 }, {}, { nextCheckMs: 5 }],
    [{ nextCheckMs: 5 }, { nextCheckMs: 3 }, { nextCheckMs: 3 }],
    [
      { end: { reason: "IdleTimeout", message: "a" } },
      { nextCheckMs: 3 },
      { end: { reason: "IdleTimeout", message: "a" } },
    ],
    [
      { nextCheckMs: 3 },
      { end: { reason: "HostDrained", message: "b" } },
      { end: { reason: "HostDrained", message: "b" } },
    ],
  ] as const)("%j + %j → %j", (a, b, out) => {
    expect(earliest(a, b)).toEqual(out);
  });
});

describe("drainTransition", () => {
  const req = { message: "m", reason: "KernelUpgrade" };
  it.each([
    [undefined, { phase: "Pending" }, "WaitingForBudget"],
    [undefined, { phase: "Draining", deadline, sessionsLeft: 3 }, "DrainStarted"],
    [{ phase: "Pending" }, { phase: "Draining", deadline }, "DrainStarted"],
    [{ phase: "Draining" }, { phase: "ForcingLogoff", deadline }, "ForcingLogoff"],
    [{ phase: "ForcingLogoff" }, { phase: "Drained" }, "Drained"],
    [{ phase: "Draining" }, undefined, "DrainAborted"],
    [{ phase: "Drained" }, undefined, "DrainEnded"],
    [{ phase: "Drained" }, { phase: "Draining" }, undefined],
    [{ phase: "Draining" }, { phase: "Draining" }, undefined],
  ] as const)("%j → %j: %s", (before, after, reason) => {
    expect(drainTransition(before, after, req, "budget")?.reason).toBe(reason);
  });
  it("says what started and why", () => {
    expect(drainTransition(undefined, { phase: "Draining", deadline, sessionsLeft: 3 }, req)?.message).toBe(
      `drain started (KernelUpgrade): 3 session(s) to end by ${deadline}`,
    );
  });
});
