// One small JSON record per desktop VM, `<storagePath>/overlays/<uid>.json`, written before
// anything else is made for it and removed after everything else is gone. It is how the adapter
// knows, after a restart, a VM whose image was still being pulled or whose domain has vanished,
// and how an overlay file can always be traced to its Desktop (so orphans are found and removed).
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { VmFailureReason } from "../adapter.js";
import type { DomainOwner } from "./domain-xml.js";
import type { BootSources } from "./vm-spec.js";
import type { Firmware, ImageRef } from "../adapter.js";

export interface VmRecord extends DomainOwner {
  readonly image: ImageRef & { readonly firmware?: Firmware; readonly boot?: BootSources };
  /** Set once the domain was started: if it vanishes later, the VM stopped (never restarted). */
  readonly startedAt?: number;
  readonly failure?: { readonly reason: VmFailureReason; readonly message: string };
  /** The VNC password the domain is started with (so the record is readable by root only). */
  readonly consolePassword?: string;
}

export class VmRecords {
  constructor(readonly dir: string) {}

  private fileOf(uid: string): string {
    return path.join(this.dir, `${uid}.json`);
  }

  async get(uid: string): Promise<VmRecord | undefined> {
    try {
      return JSON.parse(await readFile(this.fileOf(uid), "utf8")) as VmRecord;
    } catch {
      return undefined;
    }
  }

  /** Writes atomically (temporary file, then rename). */
  async put(record: VmRecord): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(record.id.uid);
    const tmp = `${file}.${process.pid}.tmp`;
    await writeFile(tmp, JSON.stringify(record, null, 2), { mode: 0o600 });
    await rename(tmp, file);
  }

  async remove(uid: string): Promise<void> {
    await rm(this.fileOf(uid), { force: true });
  }

  async list(): Promise<VmRecord[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const uids = names.filter((n) => n.endsWith(".json")).map((n) => n.slice(0, -".json".length));
    const records = await Promise.all(uids.map((uid) => this.get(uid)));
    return records.filter((r): r is VmRecord => r !== undefined);
  }
}
