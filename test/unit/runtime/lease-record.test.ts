import { describe, expect, it } from "@jest/globals";
import { acquiredSpec, canAcquire, microTime, releasedSpec } from "../../../src/runtime/lease-record.js";

const T = Date.parse("2026-03-01T10:00:00.123Z");

describe("lease decisions", () => {
  it("writes MicroTime with six fractional digits", () => {
    expect(microTime(T)).toBe("2026-03-01T10:00:00.123000Z");
  });

  it.each([
    ["nobody holds it", {}, 0, true],
    ["it was released", { holderIdentity: "", leaseDurationSeconds: 1 }, 0, true],
    ["we hold it", { holderIdentity: "me", leaseDurationSeconds: 15 }, 0, true],
    [
      "another holder renewed 14.999 s ago",
      { holderIdentity: "other", leaseDurationSeconds: 15 },
      14_999,
      false,
    ],
    [
      "another holder has not renewed for 15 s",
      { holderIdentity: "other", leaseDurationSeconds: 15 },
      15_000,
      true,
    ],
    ["the record has no duration: our default (15 s) applies", { holderIdentity: "other" }, 14_000, false],
  ])("canAcquire when %s", (_why, spec, sinceObservedMs, expected) => {
    expect(canAcquire(spec, "me", T, T + sinceObservedMs, 15_000)).toBe(expected);
  });

  it("acquiring from another holder bumps transitions and resets acquireTime", () => {
    const old = {
      holderIdentity: "other",
      leaseDurationSeconds: 15,
      acquireTime: "x",
      renewTime: "y",
      leaseTransitions: 3,
    };
    expect(acquiredSpec(old, "me", T, 15_000)).toEqual({
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      acquireTime: microTime(T),
      renewTime: microTime(T),
      leaseTransitions: 4,
    });
    expect(acquiredSpec(undefined, "me", T, 15_000).leaseTransitions).toBe(0);
  });

  it("renewing keeps acquireTime and transitions, moves renewTime", () => {
    const mine = {
      holderIdentity: "me",
      leaseDurationSeconds: 15,
      acquireTime: "then",
      renewTime: "then",
      leaseTransitions: 2,
    };
    expect(acquiredSpec(mine, "me", T, 15_000)).toEqual({ ...mine, renewTime: microTime(T) });
  });

  it("release empties the holder so others need not wait for expiry", () => {
    const released = releasedSpec({ holderIdentity: "me", leaseTransitions: 2 }, T);
    expect(released).toEqual(
      expect.objectContaining({ holderIdentity: "", leaseDurationSeconds: 1, leaseTransitions: 2 }),
    );
    expect(canAcquire(released, "someone-else", T, T, 15_000)).toBe(true);
  });
});
