// Desktop status from VM status: phase, endpoint and conditions for every path, pure.
import { describe, expect, it } from "@jest/globals";
import type { Condition } from "../../../src/api/index.js";
import { desiredDesktopStatus } from "../../../src/agent/desktop-status.js";
import { AGENT_DESKTOP_FIELDS, fieldPatch } from "../../../src/agent/status-patch.js";
import { desktop, SHA, vm } from "./fixtures.js";

const NOW = new Date("2026-05-01T10:00:00Z");
const LATER = new Date("2026-05-01T10:05:00Z");

function conditions(list: readonly Condition[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((c) => [c.type, `${c.status}/${c.reason}`]));
}

describe("desiredDesktopStatus", () => {
  it.each([
    ["pulling", "False/ImagePulling"],
    ["ready", "True/ImageCached"],
  ] as const)("a provisioning VM is Provisioning; image %s gives ImageReady %s", (state, image) => {
    const img = { source: "file:///img.qcow2", sha256: SHA, format: "qcow2" as const, state };
    const status = desiredDesktopStatus(desktop(), { kind: "vm", vm: vm("provisioning"), image: img }, NOW);
    expect(status.phase).toBe("Provisioning");
    expect(status.endpoint).toBeUndefined();
    expect(status.vmId).toBe("gd-uid-1");
    expect(status.observedGeneration).toBe(3);
    expect(conditions(status.conditions)).toEqual({
      Ready: "False/Provisioning",
      VMRunning: "False/Starting",
      ImageReady: image,
    });
  });

  it("a running VM makes the desktop Available with its endpoint, or InUse once bound", () => {
    const available = desiredDesktopStatus(desktop(), { kind: "vm", vm: vm("running") }, NOW);
    expect(available).toMatchObject({
      phase: "Available",
      endpoint: { protocol: "vnc", host: "sim-a.sim.invalid", port: 5901 },
      provisionedAt: "2026-05-01T10:00:00Z",
    });
    expect(conditions(available.conditions)).toEqual({
      Ready: "True/DesktopReady",
      VMRunning: "True/Running",
      ImageReady: "True/ImageCached",
    });
    const bound = desktop({ sessionRef: { name: "alice-1", uid: "s-1" } }, available);
    const inUse = desiredDesktopStatus(bound, { kind: "vm", vm: vm("running") }, LATER);
    expect(inUse.phase).toBe("InUse");
    expect(inUse.provisionedAt).toBe("2026-05-01T10:00:00Z"); // first became Available then
    expect(inUse.conditions).toEqual(available.conditions); // no transition, same times
  });

  it.each([
    ["ProvisioningFailed", "False/ProvisioningFailed", "False/StartFailed", undefined],
    ["VmStopped", "False/VMLost", "False/VMLost", undefined],
    ["ImagePullFailed", "False/ProvisioningFailed", "False/StartFailed", "False/ImagePullFailed"],
  ] as const)("a VM failed with %s makes the desktop Failed", (reason, ready, running, image) => {
    const failed = vm("failed", { reason, message: "boom" });
    const status = desiredDesktopStatus(desktop(), { kind: "vm", vm: failed }, NOW);
    expect(status.phase).toBe("Failed");
    expect(status.message).toBe(`${reason}: boom`);
    expect(conditions(status.conditions)).toEqual({
      Ready: ready,
      VMRunning: running,
      ...(image ? { ImageReady: image } : {}),
    });
  });

  it("a VM gone from under an Available desktop is Failed with reason VMLost, endpoint removed", () => {
    const before = desiredDesktopStatus(desktop(), { kind: "vm", vm: vm("running") }, NOW);
    const cached = desktop({}, before);
    const lost = desiredDesktopStatus(cached, { kind: "lost", host: "sim-a" }, LATER);
    expect(lost.phase).toBe("Failed");
    expect(conditions(lost.conditions)).toMatchObject({ Ready: "False/VMLost", VMRunning: "False/VMLost" });
    expect(lost.conditions?.find((c) => c.type === "Ready")?.lastTransitionTime).toBe("2026-05-01T10:05:00Z");
    const patch = fieldPatch(cached.status, lost, AGENT_DESKTOP_FIELDS);
    expect(patch).toMatchObject({
      phase: "Failed",
      endpoint: null,
      message: "the VM vanished from host sim-a",
    });
  });

  it("a refused create is Failed with the adapter's reason in the message", () => {
    const status = desiredDesktopStatus(
      desktop(),
      { kind: "rejected", reason: "InvalidSpec", message: "bad" },
      NOW,
    );
    expect(status).toMatchObject({ phase: "Failed", message: "InvalidSpec: bad" });
    expect(conditions(status.conditions)).toEqual({
      Ready: "False/ProvisioningFailed",
      VMRunning: "False/StartFailed",
    });
  });

  it("a source the admin does not allow is ImageReady False SourceNotAllowed, refused at create or at the fetch", () => {
    const refusedAtCreate = desiredDesktopStatus(
      desktop(),
      { kind: "rejected", reason: "SourceNotAllowed", message: "/etc/shadow is not under a local root" },
      NOW,
    );
    expect(conditions(refusedAtCreate.conditions)).toMatchObject({ ImageReady: "False/SourceNotAllowed" });
    const failedVm = { ...vm("failed"), reason: "ImagePullFailed" as const };
    const atFetch = desiredDesktopStatus(
      desktop(),
      {
        kind: "vm",
        vm: { ...failedVm, message: "SourceNotAllowed: http://10.0.0.1/x is not under a URL prefix" },
      },
      NOW,
    );
    expect(conditions(atFetch.conditions)).toMatchObject({ ImageReady: "False/SourceNotAllowed" });
    const bootMismatch = desiredDesktopStatus(
      desktop(),
      { kind: "vm", vm: { ...failedVm, message: "ImageChecksumMismatch: boot file /k does not match" } },
      NOW,
    );
    expect(conditions(bootMismatch.conditions)).toMatchObject({ ImageReady: "False/ChecksumMismatch" });
    const plainFailure = desiredDesktopStatus(
      desktop(),
      { kind: "vm", vm: { ...failedVm, message: "cannot fetch http://x/y: HTTP 500" } },
      NOW,
    );
    expect(conditions(plainFailure.conditions)).toMatchObject({ ImageReady: "False/ImagePullFailed" });
  });

  it("keeps the controller's conditions and never mutates the cached object", () => {
    const scheduled: Condition = {
      type: "Scheduled",
      status: "True",
      reason: "HostAssigned",
      message: "sim-a",
      lastTransitionTime: "2026-05-01T09:00:00Z",
    };
    const cached = desktop({}, { phase: "Pending", conditions: [scheduled] }); // deep-frozen
    const status = desiredDesktopStatus(cached, { kind: "vm", vm: vm("provisioning") }, NOW);
    expect(status.conditions?.[0]).toEqual(scheduled);
    expect(cached.status?.conditions).toHaveLength(1);
  });

  it("nothing to write when the cache already says it all", () => {
    const first = desiredDesktopStatus(desktop(), { kind: "vm", vm: vm("running") }, NOW);
    const again = desiredDesktopStatus(desktop({}, first), { kind: "vm", vm: vm("running") }, LATER);
    expect(fieldPatch(first, again, AGENT_DESKTOP_FIELDS)).toBeUndefined();
  });
});
