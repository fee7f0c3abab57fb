// A libvirt VM's status from what the host shows, as a pure function: the desktop's record (or
// the domain's metadata), the domain's state, its VNC port, and whether this adapter is still
// making it. A transient domain that vanished after it had started has stopped for good.
import type { Endpoint, VmStatus } from "../adapter.js";
import type { DomainOwner } from "./domain-xml.js";
import type { VmRecord } from "./records.js";

export interface Observation {
  /** The record when there is one, else the domain's metadata. */
  readonly owner: DomainOwner;
  readonly record?: VmRecord;
  /** virsh's state words, or null when there is no domain. */
  readonly domainState: string | null;
  readonly endpoint?: Endpoint;
  /** A provisioning task of this adapter is at work on it. */
  readonly provisioning: boolean;
  readonly overlayPath?: string;
  readonly vmId?: string;
}

export const UP_STATES: ReadonlySet<string> = new Set(["running", "idle", "blocked"]);

export function libvirtVmStatus(o: Observation): VmStatus {
  const base = {
    id: o.owner.id,
    resources: o.owner.resources,
    imageSha256: o.owner.imageSha256,
    createdAt: o.owner.createdAt,
    ...(o.overlayPath !== undefined ? { overlayPath: o.overlayPath } : {}),
    ...(o.vmId !== undefined ? { vmId: o.vmId } : {}),
  };
  if (o.domainState !== null) {
    // While its task is at work the VM stays provisioning: the task reports it running (with a
    // hint) as it ends, so nobody sees it running before the hint is out.
    if (UP_STATES.has(o.domainState) && o.endpoint !== undefined && !o.provisioning)
      return { ...base, state: "running", endpoint: o.endpoint };
    if (o.provisioning) return { ...base, state: "provisioning" };
    const message = UP_STATES.has(o.domainState)
      ? "the domain has no VNC display"
      : `the domain is ${o.domainState}`;
    return { ...base, state: "failed", reason: "VmStopped", message };
  }
  const failure = o.record?.failure;
  if (failure !== undefined) return { ...base, state: "failed", ...failure };
  if (o.provisioning || o.record?.startedAt === undefined) return { ...base, state: "provisioning" };
  return { ...base, state: "failed", reason: "VmStopped", message: "the domain stopped or crashed" };
}
