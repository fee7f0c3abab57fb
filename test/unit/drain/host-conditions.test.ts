import { describe, expect, it } from "@jest/globals";
import { Annotations } from "../../../src/api/constants.js";
import type { HostNode } from "../../../src/api/types.generated.js";
import { planDrain } from "../../../src/controllers/drain/plan.js";
import { hostConditions } from "../../../src/controllers/host/conditions.js";
import type { Readiness } from "../../../src/controllers/host/health.js";
import { T0, host, iso } from "./fixtures.js";

const ready: Readiness = { status: "True", reason: "AgentReady", message: "ok" };
const schedulable = (h: HostNode, startedAt?: string, r: Readiness = ready) => {
  const plan = planDrain({ host: h, desktops: [], startedAt, now: T0 });
  const list = hostConditions(h, r, plan, new Date(T0));
  return list.find((c) => c.type === "Schedulable");
};

describe("hostConditions: Schedulable", () => {
  it.each<[string, HostNode, string | undefined, Readiness, string, string]>([
    ["ready and plain", host(), undefined, ready, "True", "AcceptingDesktops"],
    ["not ready", host(), undefined, { ...ready, status: "Unknown" }, "False", "HostNotReady"],
    ["cordoned", host("h", { unschedulable: true }), undefined, ready, "False", "Cordoned"],
    ["drain waiting for its budget", host("h", { drain: {} }), undefined, ready, "True", "AcceptingDesktops"],
    ["drain started", host("h", { drain: {} }), iso(T0), ready, "False", "DrainInProgress"],
  ])("%s → %s %s", (_what, h, startedAt, r, status, reason) => {
    expect(schedulable(h, startedAt, r)).toMatchObject({ status, reason });
  });
  it("names the Node when the cordon is mirrored", () => {
    const h = host("h", {
      unschedulable: true,
      nodeName: "k8s-7",
      annotations: { [Annotations.CordonedBy]: "node-mirror" },
    });
    expect(schedulable(h)?.message).toBe("spec.unschedulable is true, mirrored from Kubernetes Node k8s-7");
  });
  it("sets all four conditions on every path", () => {
    const plan = planDrain({ host: host(), desktops: [], now: T0 });
    expect(hostConditions(host(), ready, plan, new Date(T0)).map((c) => c.type)).toEqual([
      "Ready",
      "Schedulable",
      "Draining",
      "Drained",
    ]);
  });
});
