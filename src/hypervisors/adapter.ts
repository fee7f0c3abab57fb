// The hypervisor adapter seam: what an agent hosts, one instance per HostNode it serves.
// Semantics, idempotency and concurrency rules are in CONTRACT.md beside this file; nothing
// above this interface may know which hypervisor is underneath.

/** The HostNode `spec.hypervisor.type` keys griddesk knows about. */
export type HypervisorType = "kubevirt" | "libvirt" | "simulated";
export const HYPERVISOR_TYPES: readonly HypervisorType[] = ["kubevirt", "libvirt", "simulated"];

/** Which Desktop a VM belongs to. The uid is the key; namespace and name are for people and logs. */
export interface DesktopIdentity {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type ImageFormat = "qcow2" | "raw";
export const IMAGE_FORMATS: readonly ImageFormat[] = ["qcow2", "raw"];

/** A golden image. Images are content-addressed: two refs with one sha256 are one image. */
export interface ImageRef {
  readonly source: string;
  /** Lower-case hex SHA-256 of the image file, 64 characters. */
  readonly sha256: string;
  readonly format: ImageFormat;
}

export type ImageState = "pulling" | "ready" | "failed";

export interface ImageStatus extends ImageRef {
  readonly state: ImageState;
  readonly sizeBytes?: number;
  /** CamelCase reason when state is "failed". */
  readonly reason?: string;
  readonly message?: string;
}

export type Firmware = "bios" | "uefi";

export interface VmResources {
  readonly cpuMilli: number;
  readonly memoryBytes: number;
  readonly diskBytes: number;
}

/** What to create. Fixed at creation: a later create with the same uid never resizes the VM. */
export interface VmSpec extends VmResources {
  readonly id: DesktopIdentity;
  readonly image: ImageRef & { readonly firmware?: Firmware };
  /**
   * The console's password (1 to 8 of A-Z, a-z, 0-9), for adapters whose `consolePasswords` is
   * true; others ignore it. A secret: it goes into the VM's console and nowhere else.
   */
  readonly consolePassword?: string;
}

export type VmState = "provisioning" | "running" | "failed";

/** Why a VM is in state "failed" (VmStatus.reason). */
export type VmFailureReason = "ProvisioningFailed" | "ImagePullFailed" | "VmStopped";

export type EndpointProtocol = "vnc" | "spice" | "rdp";

/** A console reached at a host and port (libvirt's VNC server, the simulator's). */
export interface NetworkEndpoint {
  readonly protocol: EndpointProtocol;
  readonly host: string;
  readonly port: number;
}

/** A KubeVirt VMI's console: the API server's VNC subresource of this VMI, not a host and port. */
export interface KubevirtConsoleEndpoint {
  readonly protocol: "vnc";
  readonly kubevirt: { readonly namespace: string; readonly name: string };
}

export type Endpoint = NetworkEndpoint | KubevirtConsoleEndpoint;

/** How an endpoint reads in messages and Events: vnc://host:5901, or the VMI's console. */
export function describeEndpoint(e: {
  protocol: string;
  host?: string;
  port?: number;
  kubevirt?: { namespace: string; name: string };
}): string {
  if (e.kubevirt) return `${e.protocol} console of VMI ${e.kubevirt.namespace}/${e.kubevirt.name}`;
  return `${e.protocol}://${e.host ?? "?"}:${e.port ?? "?"}`;
}

export interface VmStatus {
  readonly id: DesktopIdentity;
  readonly state: VmState;
  readonly resources: VmResources;
  readonly imageSha256: string;
  /** Milliseconds since the epoch, by the adapter's clock. */
  readonly createdAt: number;
  /** Present once state is "running". */
  readonly endpoint?: Endpoint;
  /** Present when state is "failed". */
  readonly reason?: VmFailureReason;
  readonly message?: string;
  readonly overlayPath?: string;
  /** The hypervisor's own identifier of the VM (libvirt: domain UUID; simulated: domain name). */
  readonly vmId?: string;
}

/**
 * A disk hot-plugged into a running VM (a user's profile disk): a qcow2 file on the host, which
 * the guest finds by its serial (its device name inside the guest may differ from the host's).
 */
export interface AttachedDisk {
  readonly path: string;
  /** 1 to 20 characters [A-Za-z0-9_-]: what the guest sees as the disk's serial number. */
  readonly serial: string;
}

export interface HostFacts {
  readonly cpuModel: string;
  readonly cpuVendor: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly localStorageBytes: number;
  readonly hypervisorVersion: string;
  readonly adapterVersion: string;
}

/**
 * A hint that something changed without a call causing it: a VM finished provisioning or
 * failed or stopped (status null: it is gone), an image pull finished. Level-triggered: the
 * listener should re-queue the owning object, which then reads the present state with `get`.
 */
export type AdapterEvent =
  | { readonly kind: "vm"; readonly id: DesktopIdentity; readonly status: VmStatus | null }
  | { readonly kind: "image"; readonly status: ImageStatus };

export type AdapterListener = (event: AdapterEvent) => void;

export interface HypervisorAdapter {
  readonly type: HypervisorType;
  /** The HostNode this instance serves. */
  readonly hostName: string;
  /**
   * Where on the host the files of hot-plugged disks (profile disks) live, or undefined when this
   * hypervisor keeps no disks in host files (the simulated one only pretends to sync profiles).
   */
  readonly diskDir?: string;
  /**
   * Whether the VM's console asks for VmSpec.consolePassword (libvirt's VNC server does). False:
   * the console is reached some other way (KubeVirt: through the API server) or not at all.
   */
  readonly consolePasswords: boolean;

  /** The host's facts, for HostNode status and capacity when the spec omits it. */
  probe(): Promise<HostFacts>;

  /**
   * Resolve once the image is cached on the host (state "ready") or rejects with an
   * AdapterError. Concurrent callers for one sha256 share one pull. `signal` abandons this
   * caller's wait only; the pull goes on for the others and for the cache.
   */
  prepareImage(image: ImageRef, signal?: AbortSignal): Promise<ImageStatus>;
  /** Cached and in-flight images. */
  listImages(): Promise<ImageStatus[]>;

  /**
   * Start a VM and return at once, usually in state "provisioning" (pulling the image if it is
   * not cached yet). Idempotent by `spec.id.uid`: an existing VM's status is returned as is.
   */
  create(spec: VmSpec): Promise<VmStatus>;
  /** The VM's present status, or null when there is none. */
  get(id: DesktopIdentity): Promise<VmStatus | null>;
  /** Every VM this adapter (griddesk) made on the host, in any state, and no others. */
  list(): Promise<VmStatus[]>;
  /** Remove the VM and its overlay. Resolves when both are gone; a no-op when absent. */
  destroy(id: DesktopIdentity): Promise<void>;
  /**
   * Hot-plugs `disk` into the running VM. Idempotent by serial: a disk with this serial attached
   * already is left as it is. Fails VmNotRunning when the VM is absent or not running.
   */
  attachDisk(id: DesktopIdentity, disk: AttachedDisk): Promise<void>;
  /**
   * Unplugs the disk with this serial from the running VM and resolves once the guest has let go
   * of it: what the guest wrote is in the file then, and nothing writes it any more. This is the
   * step between stopping a desktop and destroying its disks. Resolves false when no such disk
   * is attached (or there is no VM).
   */
  detachDisk(id: DesktopIdentity, serial: string): Promise<boolean>;
  /**
   * Write-back: moves the running VM's disk with this serial onto `next`, a qcow2 overlay the
   * caller made over the disk's present file, so the present file stops changing (it can be
   * published while the VM goes on). Crash-consistent: what the guest had written at that
   * instant, as if the power were cut (no guest agent quiesces it). Idempotent: true when the
   * disk's file is `next` already; false when no such disk is attached (or there is no VM).
   */
  freezeDisk(id: DesktopIdentity, serial: string, next: string): Promise<boolean>;
  /** Best-effort message into the guest; false when it cannot be delivered. */
  notify(id: DesktopIdentity, message: string): Promise<boolean>;

  /** Subscribe to change hints; returns the unsubscribe function. */
  onChange(listener: AdapterListener): () => void;
  /** Release timers and connections. VMs are left as they are; later calls fail AdapterClosed. */
  close(): Promise<void>;
}
