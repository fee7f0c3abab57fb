// A desktop's VirtualMachineInstance, as pure functions: the VMI made for a VmSpec (pinned to
// the host's Node, the desktop's size, a node-local copy-on-write system disk from the golden
// image's containerDisk, labels and an owner mark naming the Desktop), and the VmStatus read
// back from one. Everything `list` needs after any restart is on the VMI itself.
import type { DesktopIdentity, VmResources, VmStatus } from "../adapter.js";
import { containerDiskVerdict } from "../../volumes/source-policy.js";
import { AdapterError } from "../errors.js";
import type { KubevirtHostConfig } from "./config.js";
import type { V1VirtualMachineInstance } from "./types.generated.js";

export type Vmi = V1VirtualMachineInstance & { metadata: { name: string; namespace?: string } };

export const VMI_LABELS = {
  /** The Desktop's uid: the key (`get`). */
  desktopUid: "griddesk.io/desktop-uid",
  /** The HostNode whose VMIs these are (`list`). */
  host: "griddesk.io/host",
} as const;
/** The owner mark: the Desktop's identity and what the VM was made with, as JSON. */
export const OWNER_ANNOTATION = "griddesk.io/desktop";

interface OwnerMark {
  readonly id: DesktopIdentity;
  readonly resources: VmResources;
  readonly imageSha256: string;
  readonly createdAt: number;
}

export function vmiName(uid: string): string {
  return `gd-${uid}`;
}

/**
 * The containerDisk the image names for KubeVirt hosts (an extra beside ImageRef), when the
 * admin's prefixes allow it: SourceNotAllowed otherwise, as for a file or URL outside the policy.
 */
export function containerDiskOf(image: object, allowedPrefixes: readonly string[]): string {
  const ref = (image as { containerDisk?: unknown }).containerDisk;
  if (typeof ref !== "string" || ref === "")
    throw new AdapterError(
      "InvalidSpec",
      "spec.image.containerDisk is required on KubeVirt hosts: the golden image as an OCI image pinned by digest",
    );
  const refusal = containerDiskVerdict(allowedPrefixes, ref);
  if (refusal !== undefined) throw new AdapterError("SourceNotAllowed", refusal);
  return ref;
}

export interface VmiInput {
  readonly hostName: string;
  readonly config: KubevirtHostConfig;
  readonly id: DesktopIdentity;
  readonly resources: VmResources;
  readonly imageSha256: string;
  readonly containerDisk: string;
  readonly createdAt: number;
}

export function vmiFor(input: VmiInput): Vmi {
  const { id, resources, config } = input;
  const owner: OwnerMark = {
    id: { namespace: id.namespace, name: id.name, uid: id.uid },
    resources,
    imageSha256: input.imageSha256,
    createdAt: input.createdAt,
  };
  const memory = String(resources.memoryBytes);
  return {
    apiVersion: "kubevirt.io/v1",
    kind: "VirtualMachineInstance",
    metadata: {
      name: vmiName(id.uid),
      namespace: config.namespace,
      labels: { [VMI_LABELS.desktopUid]: id.uid, [VMI_LABELS.host]: input.hostName },
      annotations: { [OWNER_ANNOTATION]: JSON.stringify(owner) },
    },
    spec: {
      nodeSelector: { "kubernetes.io/hostname": config.nodeName },
      // A transient desktop: never restarted in place, replaced instead.
      terminationGracePeriodSeconds: 30,
      domain: {
        cpu: { cores: Math.max(1, Math.ceil(resources.cpuMilli / 1000)) },
        memory: { guest: memory },
        resources: { requests: { memory } },
        devices: {
          disks: [{ name: "system", disk: { bus: "virtio" } }],
          interfaces: [{ name: "default", masquerade: {} }],
        },
      },
      networks: [{ name: "default", pod: {} }],
      // A containerDisk: the node's runtime caches the image; KubeVirt runs the VM on a qcow2
      // overlay over it in the launcher pod's emptyDir, discarded with the VMI.
      volumes: [{ name: "system", containerDisk: { image: input.containerDisk } }],
    },
  };
}

function ownerOf(vmi: Vmi): OwnerMark | undefined {
  const raw = vmi.metadata.annotations?.[OWNER_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const mark = JSON.parse(raw) as OwnerMark;
    return typeof mark?.id?.uid === "string" && mark.id.uid === vmi.metadata.labels?.[VMI_LABELS.desktopUid]
      ? mark
      : undefined;
  } catch {
    return undefined;
  }
}

/** The Desktop a VMI griddesk made belongs to (also while it is being deleted), else undefined. */
export function ownerIdOf(vmi: Vmi): DesktopIdentity | undefined {
  return ownerOf(vmi)?.id;
}

/**
 * The VM's status, or undefined for a VMI griddesk did not make (no valid owner mark) or one
 * being deleted (gone as far as the contract is concerned).
 */
export function statusOf(vmi: Vmi): VmStatus | undefined {
  const owner = ownerOf(vmi);
  if (owner === undefined || vmi.metadata.deletionTimestamp) return undefined;
  const base = {
    id: owner.id,
    resources: owner.resources,
    imageSha256: owner.imageSha256,
    createdAt: owner.createdAt,
    vmId: `${vmi.metadata.namespace ?? ""}/${vmi.metadata.name}`,
  };
  const status = vmi.status;
  const ready = status?.conditions?.find((c) => c.type === "Ready");
  const why = [status?.reason, ready?.reason, ready?.message].filter(Boolean).join(": ");
  switch (status?.phase) {
    case "Running":
      return {
        ...base,
        state: "running",
        endpoint: {
          protocol: "vnc",
          kubevirt: { namespace: vmi.metadata.namespace ?? "", name: vmi.metadata.name },
        },
      };
    case "Failed": {
      const ran = status.phaseTransitionTimestamps?.some((t) => t.phase === "Running") ?? false;
      return {
        ...base,
        state: "failed",
        reason: ran ? "VmStopped" : "ProvisioningFailed",
        message: `KubeVirt: the VMI failed${why ? ` (${why})` : ""}`,
      };
    }
    case "Succeeded":
      return {
        ...base,
        state: "failed",
        reason: "VmStopped",
        message: "KubeVirt: the VM shut down (phase Succeeded)",
      };
    default: // "", Pending, Scheduling, Scheduled, WaitingForSync, Unknown
      return { ...base, state: "provisioning" };
  }
}
