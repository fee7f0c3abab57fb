// The libvirt adapter: desktops as transient QEMU domains on the host's own libvirtd, each with
// a qcow2 overlay over a golden image cached on the host's own disk. Follows CONTRACT.md:
// create returns at once and the VM is made in the background (provisioner.ts); the domain's
// metadata and a record per desktop let list find exactly griddesk's VMs after any restart.
import type {
  AdapterListener,
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
import { AdapterError, toAdapterError } from "../errors.js";
import { Listeners } from "../simulated/listeners.js";
import { validateIdentity, validateImageRef } from "../validate.js";
import { Overlays } from "../../volumes/index.js";
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
  readonly hostName: string;
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
