import { describe, expect, it } from "@jest/globals";
import type { HostNode } from "../../../src/api/types.generated.js";
import { heartbeatMatters } from "../../../src/controllers/host/heartbeats.js";

const lease = (renewTime: string, holderIdentity = "agent-1") => ({
  metadata: { name: "host-h1", namespace: "griddesk-system" },
  spec: { holderIdentity, leaseDurationSeconds: 40, renewTime },
});

const host = (ready: "True" | "Unknown" | undefined): HostNode =>
  ({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "HostNode",
    metadata: { name: "h1" },
    spec: {},
    status: ready
      ? {
          conditions: [
            {
              type: "Ready",
              status: ready,
              reason: "r",
              message: "",
              lastTransitionTime: "2026-11-25T10:00:00Z",
            },
          ],
        }
      : undefined,
  }) as unknown as HostNode;

describe("heartbeatMatters", () => {
  const before = lease("2026-11-25T10:00:00.000000Z");
  const renewed = lease("2026-11-25T10:00:10.000000Z");

  it("ignores a renewal of a host that is Ready (its expiry is already requeued)", () => {
    expect(heartbeatMatters(before, renewed, host("True"))).toBe(false);
  });
  it("passes a renewal of a host that is not Ready, or not yet known", () => {
    expect(heartbeatMatters(before, renewed, host("Unknown"))).toBe(true);
    expect(heartbeatMatters(before, renewed, host(undefined))).toBe(true);
    expect(heartbeatMatters(before, renewed, undefined)).toBe(true);
  });
  it("passes a change of holder or of lease duration", () => {
    expect(heartbeatMatters(before, lease("2026-11-25T10:00:10.000000Z", "agent-2"), host("True"))).toBe(
      true,
    );
    const longer = { ...renewed, spec: { ...renewed.spec, leaseDurationSeconds: 60 } };
    expect(heartbeatMatters(before, longer, host("True"))).toBe(true);
  });
});
