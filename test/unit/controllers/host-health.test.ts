// Host readiness is judged on when the controller saw the Lease renewed, never on the agent's
// clock: renewTime is only compared with the previous renewTime.
import { describe, expect, it } from "@jest/globals";
import { hostReadiness } from "../../../src/controllers/host/health.js";
import { ObservedRenewals } from "../../../src/controllers/host/renewals.js";
import { ManualClock } from "../hypervisors/manual-clock.js";

const now = Date.parse("2026-11-25T10:00:40Z");

const lease = (renewTime: string | undefined, holderIdentity = "a1") => ({
  apiVersion: "coordination.k8s.io/v1",
  kind: "Lease",
  metadata: { name: "host-h1", namespace: "griddesk-system" },
  spec: { holderIdentity, ...(renewTime ? { renewTime } : {}) },
});

describe("hostReadiness", () => {
  it("is Unknown until an agent reports", () => {
    expect(hostReadiness(undefined, now, 40_000)).toMatchObject({
      status: "Unknown",
      reason: "AwaitingAgent",
    });
  });
  it("is True within the grace period of the observed renewal and says when to look again", () => {
    const r = hostReadiness(
      { renewTime: "1999-01-01T00:00:00Z", holder: "a1", observedAt: now - 10_000 },
      now,
      40_000,
    );
    expect(r).toMatchObject({ status: "True", reason: "AgentReady" });
    expect(r.recheckInMs).toBe(30_100);
  });
  it("expires after the grace period, saying when the last renewal was seen", () => {
    const r = hostReadiness(
      { renewTime: "2099-01-01T00:00:00Z", holder: "a1", observedAt: now - 41_000 },
      now,
      40_000,
    );
    expect(r).toMatchObject({ status: "Unknown", reason: "HeartbeatExpired" });
    expect(r.message).toContain("a1");
    expect(r.message).toContain("last renewal seen at 2026-11-25T09:59:59Z");
  });
});

describe("ObservedRenewals", () => {
  it("dates a renewal by when it was seen, whatever clock the agent wrote it on", async () => {
    const clock = new ManualClock(now);
    const renewals = new ObservedRenewals(clock);
    const handler = renewals.handler();
    const tenMinutesBehind = (t: number) => new Date(t - 600_000).toISOString();
    handler.add?.(lease(tenMinutesBehind(clock.now())));
    expect(renewals.get("host-h1")?.observedAt).toBe(now);
    await clock.advance(5_000);
    const before = lease(tenMinutesBehind(now));
    handler.update?.(before, lease(tenMinutesBehind(clock.now())));
    expect(renewals.get("host-h1")?.observedAt).toBe(now + 5_000);
    expect(hostReadiness(renewals.get("host-h1"), clock.now(), 8_000).status).toBe("True");
  });

  it("does not count a relist that re-sends an unchanged Lease as a renewal", async () => {
    const clock = new ManualClock(now);
    const renewals = new ObservedRenewals(clock);
    const same = lease("2026-11-25T10:10:40Z");
    renewals.handler().add?.(same);
    await clock.advance(30_000);
    renewals.handler().update?.(same, { ...same, metadata: { ...same.metadata, resourceVersion: "9" } });
    renewals.handler().add?.(same); // a relist's add of the same Lease
    expect(renewals.get("host-h1")?.observedAt).toBe(now);
    expect(hostReadiness(renewals.get("host-h1"), clock.now(), 8_000).reason).toBe("HeartbeatExpired");
  });

  it("gives a Lease first seen (a new leader's cache) a fresh grace period, and forgets a deleted one", () => {
    const clock = new ManualClock(now);
    const renewals = new ObservedRenewals(clock);
    const old = lease("2020-01-01T00:00:00Z");
    renewals.handler().add?.(old);
    expect(hostReadiness(renewals.get("host-h1"), clock.now(), 8_000).status).toBe("True");
    renewals.handler().delete?.(old);
    expect(renewals.get("host-h1")).toBeUndefined();
  });

  it("gives every host a fresh grace period when this process starts leading", async () => {
    const clock = new ManualClock(now);
    const renewals = new ObservedRenewals(clock);
    renewals.handler().add?.(lease("2026-11-25T10:00:40Z")); // seen as a standby
    await clock.advance(60_000);
    expect(hostReadiness(renewals.get("host-h1"), clock.now(), 8_000).reason).toBe("HeartbeatExpired");
    renewals.freshGrace();
    expect(renewals.get("host-h1")?.observedAt).toBe(now + 60_000);
    expect(hostReadiness(renewals.get("host-h1"), clock.now(), 8_000).status).toBe("True");
  });
});
