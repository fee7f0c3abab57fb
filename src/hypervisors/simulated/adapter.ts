// The simulated adapter: a host that exists only in memory, for scale work, demos and machines
// without libvirt. It follows CONTRACT.md exactly; randomness is seeded and time is injected.
import type {
  AdapterListener,
  AttachedDisk,
  DesktopIdentity,
  HostFacts,
  HypervisorAdapter,
  ImageRef,
  ImageStatus,
  VmSpec,
  VmStatus,
} from "../adapter.js";
import { abortedError, untilAborted } from "../abort.js";
import type { Clock } from "../clock.js";
import { AdapterError } from "../errors.js";
import {
  validateDisk,
  validateIdentity,
  validateImageRef,
  validateSerial,
  validateVmSpec,
} from "../validate.js";
import type { SimulatedHostConfig } from "./config.js";
import { drawLatency, mulberry32, type Random } from "./prng.js";
import { Listeners } from "./listeners.js";
import {
  simulatedDomainName,
  type SimulatedHostState,
  type SimulatedImage,
  type SimulatedVm,
} from "./state.js";
import { simulatedHostFacts, simulatedImageStatus, simulatedVmStatus } from "./status.js";
import { KeyedTimers } from "./timers.js";
import { checkSourcesLexically, type SourcePolicy } from "../../volumes/index.js";

export interface SimulatedAdapterOptions {
  readonly hostName: string;
  readonly config: SimulatedHostConfig;
  /** Kept by the caller across adapter instances to simulate an agent restart. */
  readonly state: SimulatedHostState;
  readonly clock: Clock;
  /** The admin's source policy: a pool is refused the same way as on a real host. */
  readonly sources: SourcePolicy;
}

export class SimulatedAdapter implements HypervisorAdapter {
  readonly type = "simulated" as const;
  /** Its endpoints are made up: there is no console to protect. */
  readonly consolePasswords = false;
  readonly hostName: string;
  private readonly config: SimulatedHostConfig;
  private readonly state: SimulatedHostState;
  private readonly clock: Clock;
  private readonly sources: SourcePolicy;
  private readonly random: Random;
  private readonly listeners = new Listeners();
  /** At most one timer per provisioning VM ("vm:<domain>") or pulling image ("image:<sha>"). */
  private readonly timers: KeyedTimers;
  private closed = false;

  constructor(options: SimulatedAdapterOptions) {
    ({
      hostName: this.hostName,
      config: this.config,
      state: this.state,
      clock: this.clock,
      sources: this.sources,
    } = options);
    this.random = mulberry32(this.config.seed);
    this.timers = new KeyedTimers(this.clock);
    // After a restart, pick up the work the previous instance left in flight.
    const now = this.clock.now();
    for (const image of this.state.images.values()) if (image.readyAt > now) this.watchPull(image);
    for (const vm of this.state.vms.values()) if (vm.owner && vm.readyAt > now) this.watchVm(vm);
  }

  async probe(): Promise<HostFacts> {
    this.guard();
    return simulatedHostFacts(this.config);
  }

  async prepareImage(ref: ImageRef, signal?: AbortSignal): Promise<ImageStatus> {
    this.guard();
    validateImageRef(ref);
    if (signal?.aborted) throw abortedError();
    checkSourcesLexically(this.sources, ref);
    const image = this.startPull(ref);
    const pulling = this.timers.whenDone(`image:${ref.sha256}`);
    if (pulling !== undefined) await untilAborted(pulling, signal);
    return this.imageStatus(image);
  }

  async listImages(): Promise<ImageStatus[]> {
    this.guard();
    return [...this.state.images.values()].map((image) => this.imageStatus(image));
  }

  async create(spec: VmSpec): Promise<VmStatus> {
    this.guard();
    validateVmSpec(spec);
    checkSourcesLexically(this.sources, spec.image);
    const domain = simulatedDomainName(spec.id);
    const existing = this.state.vms.get(domain);
    if (existing !== undefined) {
      if (existing.owner === undefined)
        throw new AdapterError("Internal", `domain ${domain} exists and is not ours`);
      return this.vmStatus(existing);
    }
    const now = this.clock.now();
    const image = this.startPull(spec.image);
    const vm: SimulatedVm = {
      domain,
      owner: { namespace: spec.id.namespace, name: spec.id.name, uid: spec.id.uid },
      resources: { cpuMilli: spec.cpuMilli, memoryBytes: spec.memoryBytes, diskBytes: spec.diskBytes },
      imageSha256: image.ref.sha256,
      display: this.state.allocateDisplay(),
      createdAt: now,
      readyAt: Math.max(now, image.readyAt) + drawLatency(this.random, this.config.provisioningLatency),
      fails: this.random() < this.config.failureRate,
    };
    this.state.vms.set(domain, vm);
    if (vm.readyAt > now) this.watchVm(vm);
    return this.vmStatus(vm);
  }

  async get(id: DesktopIdentity): Promise<VmStatus | null> {
    this.guard();
    validateIdentity(id);
    const vm = this.ours(id);
    return vm === undefined ? null : this.vmStatus(vm);
  }

  async list(): Promise<VmStatus[]> {
    this.guard();
    const result: VmStatus[] = [];
    for (const vm of this.state.vms.values()) if (vm.owner !== undefined) result.push(this.vmStatus(vm));
    return result;
  }

  async destroy(id: DesktopIdentity): Promise<void> {
    this.guard();
    validateIdentity(id);
    const vm = this.ours(id);
    if (vm === undefined) return;
    this.timers.cancel(`vm:${vm.domain}`);
    this.state.vms.delete(vm.domain);
    this.state.releaseDisplay(vm.display);
  }

  async attachDisk(id: DesktopIdentity, disk: AttachedDisk): Promise<void> {
    this.guard();
    validateIdentity(id);
    validateDisk(disk);
    const vm = this.ours(id);
    if (vm === undefined || this.vmStatus(vm).state !== "running")
      throw new AdapterError(
        "VmNotRunning",
        `no running VM for desktop ${id.namespace}/${id.name} on ${this.hostName}`,
      );
    vm.disks ??= {};
    vm.disks[disk.serial] ??= disk.path;
  }

  async detachDisk(id: DesktopIdentity, serial: string): Promise<boolean> {
    this.guard();
    validateIdentity(id);
    validateSerial(serial);
    const disks = this.ours(id)?.disks;
    if (disks?.[serial] === undefined) return false;
    delete disks[serial];
    return true;
  }

  async freezeDisk(id: DesktopIdentity, serial: string, next: string): Promise<boolean> {
    this.guard();
    validateIdentity(id);
    validateDisk({ path: next, serial });
    const disks = this.ours(id)?.disks;
    if (disks?.[serial] === undefined) return false;
    disks[serial] = next;
    return true;
  }

  async notify(id: DesktopIdentity, message: string): Promise<boolean> {
    this.guard();
    validateIdentity(id);
    const vm = this.ours(id);
    if (vm === undefined || this.vmStatus(vm).state !== "running") return false;
    vm.lastNotice = message;
    return true;
  }

  onChange(listener: AdapterListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timers.cancelAll(new AdapterError("AdapterClosed", `adapter for host ${this.hostName} was closed`));
    this.listeners.clear();
  }

  private guard(): void {
    if (this.closed) throw new AdapterError("AdapterClosed", `adapter for host ${this.hostName} is closed`);
    if (this.state.unreachable)
      throw new AdapterError("HostUnreachable", `simulated host ${this.hostName} is down`);
  }

  private ours(id: DesktopIdentity): SimulatedVm | undefined {
    const vm = this.state.vms.get(simulatedDomainName(id));
    return vm?.owner?.uid === id.uid ? vm : undefined;
  }

  /** The cached or in-flight image for this sha256, starting one pull when there is none. */
  private startPull(ref: ImageRef): SimulatedImage {
    const cached = this.state.images.get(ref.sha256);
    if (cached !== undefined) return cached;
    const readyAt = this.clock.now() + drawLatency(this.random, this.config.imagePullLatency);
    const image: SimulatedImage = {
      ref: { source: ref.source, sha256: ref.sha256, format: ref.format },
      sizeBytes: this.config.imageSizeBytes,
      readyAt,
    };
    this.state.images.set(ref.sha256, image);
    this.state.pullsStarted++;
    this.watchPull(image);
    return image;
  }

  private watchPull(image: SimulatedImage): void {
    this.timers.schedule(`image:${image.ref.sha256}`, image.readyAt, () =>
      this.listeners.emit({ kind: "image", status: this.imageStatus(image) }),
    );
  }

  private watchVm(vm: SimulatedVm): void {
    this.timers.schedule(`vm:${vm.domain}`, vm.readyAt, () => {
      if (vm.owner !== undefined)
        this.listeners.emit({ kind: "vm", id: vm.owner, status: this.vmStatus(vm) });
    });
  }

  private imageStatus(image: SimulatedImage): ImageStatus {
    return simulatedImageStatus(image, this.clock.now());
  }

  private vmStatus(vm: SimulatedVm): VmStatus {
    return simulatedVmStatus(vm, this.clock.now(), this.hostName, this.config);
  }
}
