// The libvirt adapter: desktops as transient QEMU domains on the host's own libvirtd, each with
// a qcow2 overlay over a golden image cached on the host's own disk. Follows CONTRACT.md:
// create returns at once and the VM is made in the background (provisioner.ts); the domain's
// metadata and a record per desktop let list find exactly griddesk's VMs after any restart.
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
import path from "node:path";
import { abortedError, untilAborted } from "../abort.js";
import type { Clock } from "../clock.js";
import { AdapterError, toAdapterError } from "../errors.js";
import { Listeners } from "../simulated/listeners.js";
import { validateDisk, validateIdentity, validateImageRef, validateSerial } from "../validate.js";
import { checkSources, Overlays } from "../../volumes/index.js";
import { CommandError } from "../../volumes/command.js";
import type { LibvirtHostConfig } from "./config.js";
import { domainName, uidOfDomain } from "./domain-xml.js";
import { DomainEvents } from "./events.js";
import { Inspector } from "./inspect.js";
import { KeyedLock } from "./keyed-lock.js";
import { sendNotice } from "./notice-channel.js";
import { localStorageBytes, readStaticFacts, type StaticFacts } from "./probe.js";
import { Provisioner } from "./provisioner.js";
import type { HostStorage } from "./storage.js";
import { Virsh } from "./virsh.js";
import { recordFor } from "./vm-spec.js";

/** How long a guest has to let go of a disk being unplugged, and how often to look. */
const DETACH_TIMEOUT_MS = 20_000;
const DETACH_POLL_MS = 100;
const DETACH_RESEND_MS = 2_000;

/** libvirt's answer to a second unplug request while the first is pending (or its device is gone). */
function isUnplugPending(err: unknown): boolean {
  return (
    err instanceof CommandError &&
    /unplug.*in progress|already in the process of unplug|no disk found|disk .* not found/i.test(err.stderr)
  );
}

/** The first virtio target after the system disk's (vda) that no disk of the domain uses. */
function freeTarget(disks: readonly { target: string }[]): string {
  const used = new Set(disks.map((d) => d.target));
  for (let c = "b".charCodeAt(0); c <= "z".charCodeAt(0); c++) {
    const target = `vd${String.fromCharCode(c)}`;
    if (!used.has(target)) return target;
  }
  throw new AdapterError("InsufficientResources", "no free virtio disk target (vdb to vdz are all in use)");
}

/** How long a guest has to acknowledge a notice before notify reports it not shown. */
const NOTICE_ACK_TIMEOUT_MS = 3000;

export interface LibvirtAdapterOptions {
  readonly hostName: string;
  readonly config: LibvirtHostConfig;
  /** Shared by every adapter made for this storage directory in the process. */
  readonly storage: HostStorage;
  readonly clock: Clock;
}

export class LibvirtAdapter implements HypervisorAdapter {
  readonly type = "libvirt" as const;
  readonly consolePasswords = true;
  readonly hostName: string;
  readonly diskDir: string;
  private readonly storage: HostStorage;
  private readonly clock: Clock;
  private readonly virsh: Virsh;
  private readonly listeners = new Listeners();
  private readonly provisioner: Provisioner;
  private readonly inspector: Inspector;
  private readonly events: DomainEvents;
  private readonly closing = new AbortController();
  private readonly noticeLocks = new KeyedLock();
  private readonly offImages: () => void;
  private staticFacts?: Promise<StaticFacts>;

  constructor(o: LibvirtAdapterOptions) {
    ({ hostName: this.hostName, storage: this.storage, clock: this.clock } = o);
    this.diskDir = path.join(this.storage.root, "profiles");
    this.virsh = new Virsh(o.config.uri, o.config.commandTimeoutMs);
    this.provisioner = new Provisioner({
      storage: this.storage,
      virsh: this.virsh,
      config: o.config,
      clock: this.clock,
      settled: (uid) => this.storage.locks.with(uid, () => this.inspector.status(uid, { settled: true })),
      onSettled: (status) => this.emitVm(status),
    });
    this.inspector = new Inspector(
      this.storage,
      this.virsh,
      o.config,
      (uid) => this.provisioner.isActive(uid),
      (record) => this.closing.signal.aborted || this.provisioner.start(record),
    );
    this.events = new DomainEvents(o.config.uri, this.clock, (domain) => {
      const uid = uidOfDomain(domain);
      if (uid !== undefined) void this.hint(uid);
    });
    this.offImages = this.storage.cache.onChange((status) => this.listeners.emit({ kind: "image", status }));
  }

  probe(): Promise<HostFacts> {
    return this.call(async () => {
      this.staticFacts ??= readStaticFacts(this.virsh).catch((err: unknown) => {
        this.staticFacts = undefined;
        throw err;
      });
      const [facts, storage] = await Promise.all([this.staticFacts, localStorageBytes(this.storage.root)]);
      return { ...facts, localStorageBytes: storage };
    });
  }

  prepareImage(ref: ImageRef, signal?: AbortSignal): Promise<ImageStatus> {
    return this.call(async () => {
      validateImageRef(ref);
      if (signal?.aborted) throw abortedError();
      const both = signal ? AbortSignal.any([signal, this.closing.signal]) : this.closing.signal;
      const image = await untilAborted(this.storage.cache.ensure(ref), both);
      return { ...ref, state: "ready", sizeBytes: image.meta.sizeBytes };
    });
  }

  listImages(): Promise<ImageStatus[]> {
    return this.call(() => this.storage.cache.list());
  }

  create(spec: VmSpec): Promise<VmStatus> {
    return this.call(async () => {
      const record = recordFor(spec, this.clock.now()); // validates
      // Refused here, before any record, like on every kind of host; the fetch checks again.
      await checkSources(this.storage.sources, spec.image);
      const { uid } = spec.id;
      const made = await this.storage.locks.with(uid, async () => {
        if ((await this.storage.records.get(uid)) !== undefined) return false; // idempotent: never resized
        await this.storage.records.put(record);
        this.provisioner.start(record);
        return true;
      });
      if (made) return this.inspector.started(record);
      return (await this.inspector.status(uid)) as VmStatus;
    });
  }

  get(id: DesktopIdentity): Promise<VmStatus | null> {
    return this.call(async () => {
      validateIdentity(id);
      if (!Overlays.isSafeUid(id.uid)) return null;
      const status = await this.inspector.status(id.uid);
      return status?.id.uid === id.uid ? status : null;
    });
  }

  list(): Promise<VmStatus[]> {
    return this.call(() => this.inspector.all());
  }

  destroy(id: DesktopIdentity): Promise<void> {
    return this.call(async () => {
      validateIdentity(id);
      if (!Overlays.isSafeUid(id.uid)) return;
      const { uid } = id;
      this.provisioner.cancel(uid);
      await this.storage.locks.with(uid, async () => {
        await this.virsh.destroy(domainName(uid)); // transient: destroyed is gone
        await this.storage.overlays.remove(uid);
        await this.storage.records.remove(uid); // last: until here, list still finds the VM
        this.inspector.forget(uid);
      });
      await this.storage.cache.evictIfNeeded();
    });
  }

  attachDisk(id: DesktopIdentity, disk: AttachedDisk): Promise<void> {
    return this.call(async () => {
      validateIdentity(id);
      validateDisk(disk);
      const name = Overlays.isSafeUid(id.uid) ? domainName(id.uid) : undefined;
      // Under the VM's lock, so an attach never races its destroy.
      await this.storage.locks.with(id.uid, async () => {
        const disks =
          name !== undefined && (await this.virsh.state(name)) === "running"
            ? await this.virsh.disks(name)
            : null;
        if (name === undefined || disks === null)
          throw new AdapterError(
            "VmNotRunning",
            `no running VM for desktop ${id.namespace}/${id.name} on ${this.hostName}`,
          );
        if (disks.some((d) => d.serial === disk.serial)) return; // attached already
        await this.virsh.attachDisk(name, disk.path, freeTarget(disks), disk.serial);
      });
    });
  }

  detachDisk(id: DesktopIdentity, serial: string): Promise<boolean> {
    return this.call(async () => {
      validateIdentity(id);
      validateSerial(serial);
      if (!Overlays.isSafeUid(id.uid)) return false;
      const name = domainName(id.uid);
      return this.storage.locks.with(id.uid, async () => {
        const disk = (await this.virsh.disks(name))?.find((d) => d.serial === serial);
        if (disk === undefined) return false;
        // virsh returns once the request is sent; the guest lets go a moment later (0.3-0.5 s
        // with the test image), and only then is everything it wrote in the file. A guest still
        // booting misses the request (its ACPI hot-plug is not up yet): it is sent again.
        const until = this.clock.now() + DETACH_TIMEOUT_MS;
        for (let sent = 0; this.clock.now() < until;) {
          if (this.clock.now() >= sent + DETACH_RESEND_MS) {
            sent = this.clock.now();
            await this.virsh.detachDisk(name, disk.target).catch((err: unknown) => {
              if (!isUnplugPending(err)) throw err;
            });
          }
          await new Promise((resolve) => setTimeout(resolve, DETACH_POLL_MS));
          const still = (await this.virsh.disks(name))?.some((d) => d.serial === serial) ?? false;
          if (!still) return true;
        }
        throw new AdapterError(
          "Internal",
          `the guest of desktop ${id.namespace}/${id.name} did not let go of disk ${serial} within ${DETACH_TIMEOUT_MS} ms`,
        );
      });
    });
  }

  freezeDisk(id: DesktopIdentity, serial: string, next: string): Promise<boolean> {
    return this.call(async () => {
      validateIdentity(id);
      validateDisk({ path: next, serial });
      if (!Overlays.isSafeUid(id.uid)) return false;
      const name = domainName(id.uid);
      return this.storage.locks.with(id.uid, async () => {
        const disks = (await this.virsh.disks(name)) ?? [];
        const disk = disks.find((d) => d.serial === serial);
        if (disk === undefined) return false;
        if (disk.file === next) return true; // frozen before (a retry)
        const others = disks.filter((d) => d !== disk).map((d) => d.target);
        await this.virsh.snapshotDisk(name, disk.target, next, others);
        return true;
      });
    });
  }

  notify(id: DesktopIdentity, message: string): Promise<boolean> {
    return this.call(async () => {
      validateIdentity(id);
      if (!Overlays.isSafeUid(id.uid)) return false;
      const socket = this.storage.noticeSocket(id.uid);
      if (socket === undefined) return false;
      // One writer per serial port at a time (QEMU takes one client); not the uid's storage
      // lock, so a guest slow to answer never holds up a destroy.
      return this.noticeLocks.with(id.uid, () => sendNotice(socket, message, NOTICE_ACK_TIMEOUT_MS));
    });
  }

  onChange(listener: AdapterListener): () => void {
    return this.listeners.add(listener);
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.provisioner.cancelAll();
    this.events.stop();
    this.offImages();
    this.listeners.clear();
  }

  /** Runs a call: refuses it once closed, prepares storage and events, wraps what it throws. */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    const closed = (): AdapterError =>
      new AdapterError("AdapterClosed", `adapter for host ${this.hostName} is closed`);
    if (this.closing.signal.aborted) throw closed();
    try {
      await this.storage.ensureDirs();
      this.events.start();
      return await fn();
    } catch (err) {
      if (this.closing.signal.aborted && err instanceof AdapterError && err.reason === "Aborted")
        throw closed();
      throw toAdapterError(err);
    }
  }

  private emitVm(status: VmStatus): void {
    if (!this.closing.signal.aborted) this.listeners.emit({ kind: "vm", id: status.id, status });
  }

  /** Tells listeners the VM's present state (a hint; a VM that is gone is not reported). */
  private async hint(uid: string): Promise<void> {
    if (this.closing.signal.aborted) return;
    try {
      // Under the VM's lock, so a hint racing a destroy sees the VM gone, never half-removed.
      const status = await this.storage.locks.with(uid, () => this.inspector.status(uid));
      if (status !== null) this.emitVm(status);
    } catch {
      // A hint is best effort; the agent's requeue reads the truth later.
    }
  }
}
