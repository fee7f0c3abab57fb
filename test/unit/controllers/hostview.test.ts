import { describe, expect, it } from "@jest/globals";
import { Labels } from "../../../src/api/constants.js";
import type { HostNode } from "../../../src/api/types.generated.js";
import { hostView } from "../../../src/controllers/shared/hostview.js";

const host = (labels: Record<string, string>, ready: "True" | "Unknown" = "True"): HostNode => ({
  apiVersion: "griddesk.io/v1alpha1",
  kind: "HostNode",
  metadata: { name: "h1", labels },
  spec: { hypervisor: { type: "simulated" }, capacity: { cpu: "8", memory: "32Gi", localStorage: "500Gi" } },
  status: {
    conditions: [
      {
        type: "Ready",
        status: ready,
        reason: "AgentReady",
        message: "",
        lastTransitionTime: "2026-01-01T00:00:00Z",
      },
    ],
  },
});

describe("host view readiness for placement", () => {
  it("is ready with capacity, a Ready condition and an agent label", () => {
    expect(hostView(host({ [Labels.Agent]: "sim-agent" }), []).ready).toBe(true);
  });

  it("is not ready before the agent label reaches the cache, even with a fresh heartbeat", () => {
    // A desktop made now would carry no agent label, and no agent would ever watch it.
    expect(hostView(host({ zone: "a" }), []).ready).toBe(false);
  });

  it("is not ready without a Ready condition", () => {
    expect(hostView(host({ [Labels.Agent]: "sim-agent" }, "Unknown"), []).ready).toBe(false);
  });
});
