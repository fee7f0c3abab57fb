// When a failed profile step (attach at logon, save at logoff) may be tried again.
import { describe, expect, it } from "@jest/globals";
import { PROFILE_RETRY_MAX_MS, profileRetryIn, writeBackIn } from "../../../src/agent/profile-retry.js";

const at = Date.parse("2026-12-06T10:00:00Z");
const failed = (attempts: number) => ({
  phase: "Failed" as const,
  attempts,
  lastAttemptTime: "2026-12-06T10:00:00Z",
});

describe("profileRetryIn", () => {
  it("does not wait when nothing failed", () => {
    expect(profileRetryIn(undefined, at)).toBe(0);
    expect(profileRetryIn({ phase: "Attached" }, at)).toBe(0);
    expect(
      profileRetryIn({ phase: "Syncing", attempts: 3, lastAttemptTime: "2026-12-06T10:00:00Z" }, at),
    ).toBe(0);
  });

  it("waits 2 s after the first failure, doubling per attempt", () => {
    expect(profileRetryIn(failed(1), at)).toBe(2_000);
    expect(profileRetryIn(failed(2), at)).toBe(4_000);
    expect(profileRetryIn(failed(4), at + 10_000)).toBe(6_000);
  });

  it("caps the wait at five minutes, and is 0 once it has passed", () => {
    expect(profileRetryIn(failed(20), at)).toBe(PROFILE_RETRY_MAX_MS);
    expect(profileRetryIn(failed(1000), at)).toBe(PROFILE_RETRY_MAX_MS);
    expect(profileRetryIn(failed(1), at + 2_000)).toBe(0);
    expect(profileRetryIn(failed(1), at + 60_000)).toBe(0);
  });

  it("does not wait on a status without a readable failure time", () => {
    expect(profileRetryIn({ phase: "Failed", attempts: 3 }, at)).toBe(0);
    expect(profileRetryIn({ phase: "Failed", attempts: 3, lastAttemptTime: "yesterday" }, at)).toBe(0);
  });
});

describe("writeBackIn", () => {
  const t0 = Date.parse("2026-12-06T05:00:00Z");
  const attached = (last?: string) => ({
    phase: "Attached" as const,
    ...(last ? { lastWriteBackTime: last } : {}),
  });

  it("is off without an interval or an attached disk", () => {
    expect(writeBackIn(attached(), undefined, t0)).toBeUndefined();
    expect(writeBackIn({ phase: "Syncing" }, "15m", t0)).toBeUndefined();
  });

  it("is due one interval after the last write-back, and at once when none is recorded", () => {
    expect(writeBackIn(attached(), "15m", t0)).toBe(0);
    expect(writeBackIn(attached("2026-12-06T05:00:00Z"), "15m", t0 + 60_000)).toBe(14 * 60_000);
    expect(writeBackIn(attached("2026-12-06T05:00:00Z"), "15m", t0 + 20 * 60_000)).toBe(0);
  });
});
