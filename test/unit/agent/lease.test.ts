// The host Lease decision: take a free or own Lease at once, wait for another agent's Lease
// until it has gone unrenewed for its whole duration as this agent observed it.
import { describe, expect, it } from "@jest/globals";
import { hostLeaseManifest, leaseStep } from "../../../src/agent/lease.js";
import type { Lease, LeaseSpec } from "../../../src/runtime/index.js";

const T0 = Date.parse("2026-05-01T10:00:00Z");
const lease = (spec: LeaseSpec): Lease => ({
  ...hostLeaseManifest("sim-a", "griddesk-system", spec),
  metadata: { name: "host-sim-a", namespace: "griddesk-system", resourceVersion: "7" },
});
const held = (holder: string): Lease =>
  lease({
    holderIdentity: holder,
    leaseDurationSeconds: 40,
    acquireTime: "then",
    renewTime: "then",
    leaseTransitions: 2,
  });

describe("leaseStep", () => {
  it("names the Lease after the host and labels it", () => {
    const m = hostLeaseManifest("sim-a", "gd", {});
    expect(m.metadata).toEqual({
      name: "host-sim-a",
      namespace: "gd",
      labels: { "griddesk.io/host": "sim-a" },
    });
  });

  it("renews its own Lease, keeping acquireTime and the resourceVersion check", () => {
    const step = leaseStep(held("agent-1"), "sim-a", "agent-1", T0, T0, 40);
    expect(step.action).toBe("write");
    if (step.action !== "write") return;
    expect(step.lease.metadata.resourceVersion).toBe("7");
    expect(step.lease.metadata.labels).toEqual({ "griddesk.io/host": "sim-a" }); // added if missing
    expect(step.lease.spec).toMatchObject({
      holderIdentity: "agent-1",
      acquireTime: "then",
      renewTime: "2026-05-01T10:00:00.000000Z",
      leaseTransitions: 2,
    });
  });

  it("waits while another agent's Lease is fresh, then takes it over", () => {
    expect(leaseStep(held("agent-2"), "sim-a", "agent-1", T0, T0 + 39_999, 40)).toEqual({
      action: "wait",
      holder: "agent-2",
    });
    const step = leaseStep(held("agent-2"), "sim-a", "agent-1", T0, T0 + 40_000, 40);
    expect(step.action).toBe("write");
    if (step.action === "write")
      expect(step.lease.spec).toMatchObject({ holderIdentity: "agent-1", leaseTransitions: 3 });
  });

  it("takes a Lease nobody holds at once", () => {
    expect(leaseStep(lease({ holderIdentity: "" }), "sim-a", "agent-1", T0, T0, 40).action).toBe("write");
  });
});
