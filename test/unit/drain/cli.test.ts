import { describe, expect, it } from "@jest/globals";
import { drainPatch, DEFAULT_MESSAGE } from "../../../src/cli/drain.js";
import { hostState, progressRow, renderTable, settled, summary } from "../../../src/cli/drain-progress.js";
import { drainInProgress } from "../../../src/cli/cordon.js";
import { T0, host, iso } from "./fixtures.js";

describe("drainPatch", () => {
  it("defaults: the standard message, one hour, force", () => {
    expect(drainPatch({})).toEqual({
      message: DEFAULT_MESSAGE,
      gracePeriod: "1h",
      deadline: null,
      forceLogoff: true,
      reason: null,
    });
  });
  it("a deadline replaces the grace period (removed by the merge patch)", () => {
    expect(drainPatch({ deadline: "2026-12-01T18:00:00Z", force: false, reason: "Kernel" })).toMatchObject({
      gracePeriod: null,
      deadline: "2026-12-01T18:00:00Z",
      forceLogoff: false,
      reason: "Kernel",
    });
  });
  it("refuses both", () => {
    expect(() => drainPatch({ grace: "1h", deadline: "2026-12-01T18:00:00Z" })).toThrow(
      /either --grace or --deadline/,
    );
  });
});

describe("progress", () => {
  const draining = host("h1", {
    drain: {},
    status: { startedAt: iso(T0), deadline: iso(T0 + 90_000), sessionsLeft: 4, phase: "Draining" },
  });
  it("a draining host: sessions left and time to the deadline", () => {
    expect(progressRow("h1", draining, T0 + 5000)).toMatchObject({
      host: "h1",
      state: "Draining",
      sessions: "4",
      deadline: "in 1m25s",
    });
    expect(progressRow("h1", draining, T0 + 95_000).deadline).toBe("passed 5s ago");
  });
  it.each([
    [undefined, undefined, "Gone"],
    [host("h1"), undefined, "NotDraining"],
    [host("h1", { status: { phase: "Draining" } }), undefined, "Aborting"],
    [host("h1", { drain: {} }), undefined, "Requested"],
    [host("h1", { drain: {}, status: { phase: "Pending" } }), undefined, "Pending"],
    [host("h1", { drain: {}, status: { phase: "Drained" } }), "Maintenance", "Maintenance"],
  ] as const)("state of %j (%s) → %s", (h, local, state) => {
    expect(hostState(h, local)).toBe(state);
  });
  it.each([
    ["Drained", false, true],
    ["Drained", true, false],
    ["Returned", true, true],
    ["Pending", false, false],
    ["NotDraining", true, true],
    ["MaintenanceFailed", true, true],
  ] as const)("%s settled (exec %s): %s", (state, exec, done) => {
    expect(settled(state, exec)).toBe(done);
  });
  it("table and summary", () => {
    const rows = [
      progressRow("h1", draining, T0),
      progressRow("h2", host("h2", { drain: {}, status: { phase: "Pending" } }), T0),
    ];
    expect(summary(rows)).toBe("2 host(s): 1 Draining, 1 Pending; 4 session(s) left");
    const table = renderTable(rows);
    expect(table[0]).toMatch(/^HOST\s+STATE\s+SESSIONS\s+DEADLINE\s+DETAIL$/);
    expect(table[1]).toMatch(/^h1\s+Draining\s+4\s+in 1m30s/);
    expect(renderTable(rows, 10)[1]).toHaveLength(10);
  });
  it("uncordon refuses only a drain in progress", () => {
    expect(drainInProgress(draining)).toBe(true);
    expect(drainInProgress(host("h1", { drain: {}, status: { phase: "Drained" } }))).toBe(false);
    expect(drainInProgress(host("h1", { drain: {}, status: { phase: "Pending" } }))).toBe(false);
  });
});
