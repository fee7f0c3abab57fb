// Makes a desktop's VM in the background, step by idempotent step: the golden image (one pull
// per sha256 for the whole host), the boot files, then — under the desktop's lock — the
// overlay and the transient domain, and the record that says it started. A step that fails
// marks the record failed; destroy (or closing the adapter) cancels the task between steps,
// and the lock guarantees that no domain starts after a destroy.
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { VmStatus } from "../adapter.js";
import type { Clock } from "../clock.js";
import { AdapterError, toAdapterError } from "../errors.js";
import type { LibvirtHostConfig } from "./config.js";
import { domainName, domainXml, type KernelBoot } from "./domain-xml.js";
import type { VmRecord } from "./records.js";
import type { BootSources } from "./vm-spec.js";
import type { HostStorage } from "./storage.js";
import { isAlreadyExists, type Virsh } from "./virsh.js";

interface Task {
  cancelled: boolean;
}

export interface ProvisionerDeps {
  readonly storage: HostStorage;
  readonly virsh: Virsh;
  readonly config: LibvirtHostConfig;
  readonly clock: Clock;
  /** The VM's status as it will be once its task is gone (read before the task is removed). */
  readonly settled: (uid: string) => Promise<VmStatus | null>;
  /** A task ended (its VM runs or failed): called with that status; not for cancelled tasks. */
  readonly onSettled: (status: VmStatus) => void;
}

export class Provisioner {
  private readonly tasks = new Map<string, Task>();

  constructor(private readonly deps: ProvisionerDeps) {}

  isActive(uid: string): boolean {
    return this.tasks.has(uid);
  }

  /** Starts making the VM unless a task for it is at work already. */
  start(record: VmRecord): void {
    if (this.tasks.has(record.id.uid)) return;
    const task: Task = { cancelled: false };
    this.tasks.set(record.id.uid, task);
    const uid = record.id.uid;
    void this.run(task, record)
      .catch(() => undefined) // run records its own failures; a failing record write is retried on resume
      .then(async () => (task.cancelled ? null : await this.deps.settled(uid).catch(() => null)))
      .then((status) => {
        // In one step: the task is gone (get now says running or failed) and the hint is out.
        if (this.tasks.get(uid) === task) this.tasks.delete(uid);
        if (!task.cancelled && status !== null) this.deps.onSettled(status);
      });
  }

  cancel(uid: string): void {
    const task = this.tasks.get(uid);
    if (task !== undefined) task.cancelled = true;
    this.tasks.delete(uid);
  }

  cancelAll(): void {
    for (const uid of [...this.tasks.keys()]) this.cancel(uid);
  }

  private async run(task: Task, record: VmRecord): Promise<void> {
    const { storage } = this.deps;
    const uid = record.id.uid;
    try {
      const image = await storage.cache.ensure(record.image);
      refuseLargerThanReserved(image.meta.virtualSize, record.resources.diskBytes);
      const boot = await this.bootFiles(record.image.boot);
      if (task.cancelled) return;
      await storage.locks.with(uid, async () => {
        const now = await storage.records.get(uid);
        if (task.cancelled || now === undefined || now.startedAt !== undefined || now.failure) return;
        const backing = { path: image.file, format: image.meta.format, virtualSize: image.meta.virtualSize };
        const overlay = await storage.overlays.create(uid, backing, record.resources.diskBytes);
        await this.startDomain({ ...record, overlay, boot });
        await storage.records.put({ ...now, startedAt: this.deps.clock.now() });
      });
    } catch (err) {
      if (task.cancelled) return;
      const error = toAdapterError(err);
      const pull = ["ImagePullFailed", "ImageChecksumMismatch", "SourceNotAllowed"].includes(error.reason);
      const failure = {
        reason: pull ? ("ImagePullFailed" as const) : ("ProvisioningFailed" as const),
        // The adapter's own reason leads when it is not already the VM's (ChecksumMismatch, ...).
        message:
          pull && error.reason !== "ImagePullFailed" ? `${error.reason}: ${error.message}` : error.message,
      };
      await storage.locks.with(uid, async () => {
        const now = await storage.records.get(uid);
        if (!task.cancelled && now !== undefined && now.startedAt === undefined)
          await storage.records.put({ ...now, failure });
      });
    }
  }

  private async bootFiles(boot: BootSources | undefined): Promise<KernelBoot | undefined> {
    if (boot === undefined) return undefined;
    const { storage } = this.deps;
    const [kernel, initrd] = await Promise.all([
      storage.boot.ensure(boot.kernel),
      boot.initrd === undefined ? undefined : storage.boot.ensure(boot.initrd),
    ]);
    return { kernel, ...(initrd ? { initrd } : {}), ...(boot.cmdline ? { cmdline: boot.cmdline } : {}) };
  }

  private async startDomain(d: VmRecord & { overlay: string; boot: KernelBoot | undefined }): Promise<void> {
    const xml = domainXml({
      ...d,
      vncListen: this.deps.config.vncListen,
      domainType: this.deps.config.domainType,
      noticeSocket: this.deps.storage.noticeSocket(d.id.uid),
      ...(d.image.firmware ? { firmware: d.image.firmware } : {}),
      ...(d.boot ? { boot: d.boot } : {}),
    });
    const file = path.join(
      this.deps.storage.tmpDir,
      `${domainName(d.id.uid)}.${randomBytes(4).toString("hex")}.xml`,
    );
    await writeFile(file, xml, { mode: 0o600 });
    try {
      await this.deps.virsh.create(file);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err; // an earlier run (before a crash) got there first
    } finally {
      await rm(file, { force: true });
    }
  }
}

/**
 * A golden image whose disk is larger than the pool's `spec.resources.disk` is refused: the
 * overlay would be as large as the image, past what placement reserved on the host's disk.
 */
function refuseLargerThanReserved(virtualSize: number, diskBytes: number): void {
  if (virtualSize > diskBytes)
    throw new AdapterError(
      "InvalidSpec",
      `the golden image's disk is ${virtualSize} bytes, larger than the pool's spec.resources.disk ` +
        `(${diskBytes} bytes) that placement reserved for the desktop`,
    );
}
