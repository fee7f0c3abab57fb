// Desktop status from what the hypervisor reports, as pure functions: phase, endpoint and the
// Ready/VMRunning/ImageReady conditions, set the same way on every path. The controller's
// conditions (Scheduled) are carried over untouched.
import {
  DesktopConditions as C,
  DesktopReasons as R,
  setCondition,
  toKubeTime,
  type Condition,
  type ConditionUpdate,
  type Desktop,
  type DesktopEndpoint,
  type DesktopStatus,
} from "../api/index.js";
import { describeEndpoint, type ImageStatus, type VmStatus } from "../hypervisors/index.js";
import type { Cached } from "../runtime/index.js";

/** What the agent found out about a desktop's VM. */
export type VmObservation =
  /** The adapter's report, and its image's state when known. */
  | {
      readonly kind: "vm";
      readonly vm: VmStatus;
      readonly image?: ImageStatus;
      /** The agent made the VM in this pass. */
      readonly created?: boolean;
    }
  /** No VM, although the desktop had been Available or InUse. */
  | { readonly kind: "lost"; readonly host: string }
  /** The adapter (or the spec) refused the VM in a way retrying cannot fix. */
  | { readonly kind: "rejected"; readonly reason: string; readonly message: string };

type Update = ConditionUpdate;
const cond = (type: string, status: Update["status"], reason: string, message: string): Update => ({
  type,
  status,
  reason,
  message,
});

/** The ImageReady reason for an adapter's reason (also the prefix of a failed VM's message). */
function imageFailureReason(adapterReason: string | undefined): string {
  if (adapterReason === "ImageChecksumMismatch") return R.ChecksumMismatch;
  if (adapterReason === "SourceNotAllowed") return R.SourceNotAllowed;
  return R.ImagePullFailed;
}

function imageCondition(image: ImageStatus | undefined, vm: VmStatus): Update | undefined {
  if (vm.state === "running") return cond(C.ImageReady, "True", R.ImageCached, "the image is cached");
  if (vm.state === "failed" && vm.reason === "ImagePullFailed") {
    // The image's own failure, else the one the message begins with (a boot file's).
    const cause = image?.state === "failed" ? image.reason : /^(\w+):/.exec(vm.message ?? "")?.[1];
    return cond(C.ImageReady, "False", imageFailureReason(cause), vm.message ?? "");
  }
  if (image === undefined) return undefined;
  if (image.state === "ready") return cond(C.ImageReady, "True", R.ImageCached, "the image is cached");
  if (image.state === "pulling") return cond(C.ImageReady, "False", R.ImagePulling, "fetching the image");
  return cond(C.ImageReady, "False", imageFailureReason(image.reason), image.message ?? "");
}

function failure(vm: VmStatus): { ready: Update; running: Update; message: string } {
  const message = `${vm.reason ?? "Failed"}: ${vm.message ?? "the VM failed"}`;
  const stopped = vm.reason === "VmStopped";
  return {
    ready: cond(C.Ready, "False", stopped ? R.VMLost : R.ProvisioningFailed, message),
    running: cond(C.VMRunning, "False", stopped ? R.VMLost : R.StartFailed, message),
    message,
  };
}

/** The fields and conditions this observation implies. */
function observed(
  desktop: Cached<Desktop>,
  obs: VmObservation,
  now: Date,
): { fields: DesktopStatus; updates: Update[] } {
  if (obs.kind === "lost") {
    const message = `the VM vanished from host ${obs.host}`;
    const lost = [cond(C.Ready, "False", R.VMLost, message), cond(C.VMRunning, "False", R.VMLost, message)];
    return { fields: { phase: "Failed", message }, updates: lost };
  }
  if (obs.kind === "rejected") {
    const message = `${obs.reason}: ${obs.message}`;
    const updates = [
      cond(C.Ready, "False", R.ProvisioningFailed, message),
      cond(C.VMRunning, "False", R.StartFailed, message),
      ...(obs.reason === "SourceNotAllowed"
        ? [cond(C.ImageReady, "False", R.SourceNotAllowed, message)]
        : []),
    ];
    return { fields: { phase: "Failed", message }, updates };
  }
  const { vm } = obs;
  const image = imageCondition(obs.image, vm);
  const ids: DesktopStatus = {
    ...(vm.vmId !== undefined ? { vmId: vm.vmId } : {}),
    ...(vm.overlayPath !== undefined ? { overlayPath: vm.overlayPath } : {}),
  };
  if (vm.state === "running" && vm.endpoint !== undefined) {
    const endpoint = structuredClone(vm.endpoint) as DesktopEndpoint;
    const fields: DesktopStatus = {
      ...ids,
      phase: desktop.spec.sessionRef ? "InUse" : "Available",
      endpoint,
      provisionedAt: desktop.status?.provisionedAt ?? toKubeTime(now),
    };
    const ready = cond(C.Ready, "True", R.DesktopReady, describeEndpoint(endpoint));
    const running = cond(C.VMRunning, "True", R.Running, "the hypervisor reports the VM running");
    return { fields, updates: [ready, running, ...(image ? [image] : [])] };
  }
  if (vm.state === "failed") {
    const f = failure(vm);
    return {
      fields: { ...ids, phase: "Failed", message: f.message },
      updates: [f.ready, f.running, ...(image ? [image] : [])],
    };
  }
  const waiting = image?.status === "False" ? image.message : "starting the VM";
  const updates = [
    cond(C.Ready, "False", R.Provisioning, waiting || "provisioning"),
    cond(C.VMRunning, "False", R.Starting, "the VM is being defined or booted"),
    ...(image ? [image] : []),
  ];
  return { fields: { ...ids, phase: "Provisioning" }, updates };
}

/** The whole status the agent wants the desktop to have. Callers never pass a Failed desktop. */
export function desiredDesktopStatus(desktop: Cached<Desktop>, obs: VmObservation, now: Date): DesktopStatus {
  const generation = desktop.metadata.generation;
  const { fields, updates } = observed(desktop, obs, now);
  let conditions = desktop.status?.conditions as readonly Condition[] | undefined;
  for (const u of updates) conditions = setCondition(conditions, u, generation, now);
  return {
    ...fields,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    ...(conditions ? { conditions: [...conditions] } : {}),
  };
}
