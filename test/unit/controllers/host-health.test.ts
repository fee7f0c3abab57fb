import { describe, expect, it } from "@jest/globals";
import { hostReadiness } from "../../../src/controllers/host/health.js";

const now = Date.parse("2026-11-25T10:00:40Z");

describe("hostReadiness", () => {
  it("is Unknown until an agent reports", () => {
    expect(hostReadiness(undefined, now, 40_000)).toMatchObject({
      status: "Unknown",
      reason: "AwaitingAgent",
    });
  });
  it("is True within the grace period and says when to look again", () => {
    const r = hostReadiness({ renewTime: "2026-11-25T10:00:30.000000Z", holderIdentity: "a1" }, now, 40_000);
    expect(r).toMatchObject({ status: "True", reason: "AgentReady" });
    expect(r.recheckInMs).toBe(30_100);
  });
  it("expires after the grace period", () => {
    const r = hostReadiness({ renewTime: "2026-11-25T09:59:59Z", holderIdentity: "a1" }, now, 40_000);
    expect(r).toMatchObject({ status: "Unknown", reason: "HeartbeatExpired" });
    expect(r.message).toContain("a1");
  });
});
