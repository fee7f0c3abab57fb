import { describe, expect, it } from "@jest/globals";
import type { HostNode } from "../../../src/api/types.generated.js";
import { readableBytes, renderHosts } from "../../../src/cli/status.js";

const host = (name: string, spec: Partial<HostNode["spec"]>, phase?: string): HostNode =>
  ({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "HostNode",
    metadata: { name },
    spec: { hypervisor: { type: "simulated" }, ...spec },
    ...(phase ? { status: { drain: { phase } } } : {}),
  }) as HostNode;

describe("griddesk status: hosts", () => {
  it("shows cordon and each drain phase, a drain waiting for budget as DrainPending", () => {
    const drain = { message: "m", gracePeriod: "30s" };
    const out = renderHosts([
      host("a", {}),
      host("b", { unschedulable: true }),
      host("c", { drain }),
      host("d", { drain }, "Pending"),
      host("e", { drain }, "Draining"),
      host("f", { drain }, "ForcingLogoff"),
      host("g", { drain }, "Drained"),
    ]);
    const lines = out.split("\n");
    const column = (lines[0] as string).indexOf("STATE");
    const state = (name: string) =>
      lines
        .find((l) => l.startsWith(`${name} `))
        ?.slice(column)
        .split(/\s+/)[0];
    expect(["a", "b", "c", "d", "e", "f", "g"].map(state)).toEqual([
      "Schedulable",
      "Cordoned",
      "DrainRequested",
      "DrainPending",
      "Draining",
      "ForcingLogoff",
      "Drained",
    ]);
  });
});

describe("readable memory", () => {
  it("rounds to one decimal in the largest unit and keeps whole units", () => {
    expect(readableBytes("12805920Ki")).toBe("12.2Gi");
    expect(readableBytes("48Gi")).toBe("48Gi");
    expect(readableBytes("192Mi")).toBe("192Mi");
    expect(readableBytes(0)).toBe("0");
    expect(readableBytes(undefined)).toBe("?");
    expect(readableBytes("lots")).toBe("lots");
  });
});
