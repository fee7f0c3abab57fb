// What a simulated host "has": its VMs and cached images. It lives apart from the adapter so
// that it outlives one: an agent crash is simulated by closing the adapter and making a new one
// over the same state, which then finds whatever the old one left behind (orphans included).
//
// Records are plain data and never hold timers. A VM's state is a function of the clock: it is
// "provisioning" until `readyAt`, then "running" or "failed" as decided, by the seed, at create.
import type { DesktopIdentity, ImageRef, VmResources } from "../adapter.js";

/** The hypervisor's name for a desktop's VM: deterministic, so a retried create finds it. */
export function simulatedDomainName(id: DesktopIdentity): string {
  return `gd-${id.uid}`;
}

export interface SimulatedVm {
  /** The hypervisor's own name for it (a libvirt domain name, say). */
  readonly domain: string;
  /** Set on every VM griddesk made; absent on VMs another tool made. */
  readonly owner?: DesktopIdentity;
  readonly resources: VmResources;
  readonly imageSha256: string;
  /** VNC display number: the endpoint port is 5900 + display. */
  readonly display: number;
  readonly createdAt: number;
  readonly readyAt: number;
  readonly fails: boolean;
  /** The last message delivered into the guest by notify. */
  lastNotice?: string;
  /** Hot-plugged disks: path by serial (plain data, so a saved host state keeps them). */
  disks?: Record<string, string>;
}

export interface SimulatedImage {
  readonly ref: ImageRef;
  readonly sizeBytes: number;
  readonly readyAt: number;
}

export class SimulatedHostState {
  /** Keyed by domain name. */
  readonly vms = new Map<string, SimulatedVm>();
  /** Keyed by sha256. */
  readonly images = new Map<string, SimulatedImage>();
  /** While true every call fails HostUnreachable, as if the host's hypervisor were down. */
  unreachable = false;
  /** How many image pulls were ever started on this host. */
  pullsStarted = 0;
  private nextDisplay = 0;
  private readonly freeDisplays: number[] = [];

  /** A display number unused on this host (freed ones are reused first, so ports stay low). */
  allocateDisplay(): number {
    return this.freeDisplays.pop() ?? this.nextDisplay++;
  }

  releaseDisplay(display: number): void {
    this.freeDisplays.push(display);
  }

  /** Puts a VM on the host that griddesk did not make; adapters must neither list nor touch it. */
  addForeignVm(domain: string): void {
    if (this.vms.has(domain)) throw new Error(`domain ${domain} already exists`);
    const resources = { cpuMilli: 1000, memoryBytes: 1024 ** 3, diskBytes: 10 * 1024 ** 3 };
    const display = this.allocateDisplay();
    this.vms.set(domain, {
      domain,
      resources,
      imageSha256: "",
      display,
      createdAt: 0,
      readyAt: 0,
      fails: false,
    });
  }
}
