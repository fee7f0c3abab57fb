// What the contract suite needs from an adapter's test set-up, and the helpers its cases share.
import { randomUUID } from "node:crypto";
import type {
  DesktopIdentity,
  HypervisorAdapter,
  ImageRef,
  VmSpec,
  VmStatus,
} from "../../../src/hypervisors/adapter.js";

export interface ContractHarness {
  /** The adapter under test (after `restart`, the new one). */
  readonly adapter: HypervisorAdapter;
  /** An image the adapter can fetch; small, for real adapters. */
  readonly image: ImageRef;
  /** Let some time pass: advance a manual clock, or sleep. */
  tick(): Promise<void>;
  /**
   * The optional steps this adapter takes (CONTRACT.md, "Mandatory and optional steps"); each
   * defaults to true. Where one does not apply, the suite checks the adapter says so instead.
   */
  readonly supports?: { readonly imageCache?: boolean; readonly diskHotplug?: boolean };
  /** A small qcow2 file on the host that a VM can have hot-plugged (attachDisk). */
  scratchDisk?(): Promise<string>;
  /** A qcow2 overlay over `disk`, by its relative name, beside it (for freezeDisk). */
  overlayOf?(disk: string): Promise<string>;
  /** Checks, on a real host, what a freeze left: `next` still backed by `disk` by its relative name. */
  afterFreeze?(disk: string, next: string): Promise<void>;
  /** Put a VM on the host that griddesk did not make. */
  addForeignVm?(name: string): Promise<void>;
  /** How many image fetches the host has started. */
  pullCount?(): number;
  /** Close the adapter and make a new one over the same host, as after an agent crash. */
  restart?(): Promise<HypervisorAdapter>;
  /** Close the adapter (idempotent); VMs made by the suite are destroyed before this is called. */
  close(): Promise<void>;
}

/** Per-test state of the suite: the harness, and every identity handed out (destroyed after). */
export class ContractKit {
  h!: ContractHarness;
  made: DesktopIdentity[] = [];
  /** Tags VM names of this run, so leftovers on a real host can be traced to it. */
  readonly run = Math.random().toString(36).slice(2, 8);

  constructor(readonly maxTicks: number) {}

  /** A fresh identity (new uid) and a small VM spec over the harness's image. */
  spec(name: string, over: Partial<VmSpec> = {}): VmSpec {
    const id = { namespace: "contract", name: `${name}-${this.run}`, uid: randomUUID() };
    this.made.push(id);
    const size = { cpuMilli: 1000, memoryBytes: 512 * 1024 ** 2, diskBytes: 2 * 1024 ** 3 };
    return { id, ...size, image: this.h.image, ...over };
  }

  /** Ticks until `promise` settles, then returns it. */
  async drive<T>(promise: Promise<T>): Promise<T> {
    let done = false;
    const finish = (): void => void (done = true);
    promise.then(finish, finish);
    for (let i = 0; !done && i < this.maxTicks; i++) await this.h.tick();
    return promise;
  }

  /** Ticks until the VM is no longer provisioning; its status then (null when absent). */
  async settled(id: DesktopIdentity): Promise<VmStatus | null> {
    for (let i = 0; i < this.maxTicks; i++) {
      const status = await this.h.adapter.get(id);
      if (status?.state !== "provisioning") return status;
      await this.h.tick();
    }
    throw new Error(`VM ${id.name} still provisioning after ${this.maxTicks} ticks`);
  }

  /** The listed VMs that this test made (a real host may have others). */
  async ours(): Promise<VmStatus[]> {
    const uids = new Set(this.made.map((id) => id.uid));
    return (await this.h.adapter.list()).filter((vm) => uids.has(vm.id.uid));
  }

  /** Whether the adapter takes an optional step (CONTRACT.md). */
  supports(step: "imageCache" | "diskHotplug"): boolean {
    return this.h.supports?.[step] ?? true;
  }

  /** A scratch disk from a harness whose adapter hot-plugs disks. */
  scratchDisk(): Promise<string> {
    if (this.h.scratchDisk === undefined) throw new Error("the harness has no scratchDisk");
    return this.h.scratchDisk();
  }

  overlayOf(disk: string): Promise<string> {
    if (this.h.overlayOf === undefined) throw new Error("the harness has no overlayOf");
    return this.h.overlayOf(disk);
  }

  async tearDown(): Promise<void> {
    for (const id of this.made) await this.h.adapter.destroy(id).catch(() => undefined);
    this.made = [];
    await this.h.close();
  }
}
