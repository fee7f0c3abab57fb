import { describe, expect, it } from "@jest/globals";
import { checkTimeouts, parseDuration } from "../../../src/controllers/session/timeouts.js";
import { pool, session } from "./fixtures.js";

const t0 = Date.parse("2026-11-25T10:00:00Z");
const at = (sec: number) => new Date(t0 + sec * 1000).toISOString();

describe("parseDuration", () => {
  it.each([
    ["30m", 1_800_000],
    ["1h30m", 5_400_000],
    ["45s", 45_000],
    ["500ms", 500],
    ["2h", 7_200_000],
  ])("%s", (text, ms) => expect(parseDuration(text)).toBe(ms));
  it.each(["", "abc", "10", "5 m", "1d"])("refuses %p", (text) =>
    expect(parseDuration(text)).toBeUndefined(),
  );
});

describe("checkTimeouts", () => {
  const p = pool({
    session: {
      persistence: "NonPersistent",
      idleTimeout: "30m",
      disconnectedTimeout: "15m",
      maxDuration: "12h",
    },
  });

  it("does nothing before a desktop is bound", () => {
    expect(checkTimeouts(session({}), p, t0)).toEqual({});
  });
  it("schedules the next check at the earliest limit", () => {
    const v = checkTimeouts(session({ boundAt: at(0) }), p, t0 + 1000);
    expect(v.end).toBeUndefined();
    expect(v.nextCheckMs).toBe(12 * 3_600_000 - 1000);
  });
  it("ends at maxDuration", () => {
    expect(checkTimeouts(session({ boundAt: at(0) }), p, t0 + 12 * 3_600_000)?.end?.reason).toBe(
      "MaxDurationExceeded",
    );
  });
  it("ends an idle session", () => {
    const s = session({ boundAt: at(0), lastActivityTime: at(60), connected: true });
    expect(checkTimeouts(s, p, t0 + 60_000 + 1_800_000)?.end?.reason).toBe("IdleTimeout");
  });
  it("ends a session left disconnected before idle applies", () => {
    const s = session({ boundAt: at(0), lastActivityTime: at(60), connected: false });
    expect(checkTimeouts(s, p, t0 + 60_000 + 900_000)?.end?.reason).toBe("DisconnectedTimeout");
  });
  it("has no limits without a session policy", () => {
    expect(checkTimeouts(session({ boundAt: at(0) }), pool(), t0 + 1e9)).toEqual({});
  });
});
