// Per-desktop copy-on-write overlays, `<storagePath>/overlays/<uid>.qcow2`, over a cached golden
// image. Made under a temporary name and renamed, so a crash never leaves a half-made overlay
// under its real name; removing an absent overlay is a no-op.
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { createOverlay } from "./qemu-img.js";

const SAFE_UID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

export interface Backing {
  readonly path: string;
  readonly format: string;
  readonly virtualSize: number;
}

export class Overlays {
  constructor(readonly dir: string) {}

  /** Uids become file names, so only letters, digits and dashes (Kubernetes uids are UUIDs). */
  static isSafeUid(uid: string): boolean {
    return SAFE_UID.test(uid);
  }

  pathOf(uid: string): string {
    if (!Overlays.isSafeUid(uid)) throw new Error(`unsafe uid for a file name: ${JSON.stringify(uid)}`);
    return path.join(this.dir, `${uid}.qcow2`);
  }

  async exists(uid: string): Promise<boolean> {
    return stat(this.pathOf(uid)).then(
      () => true,
      () => false,
    );
  }

  /** Makes the overlay unless it exists; returns its path. Not safe for concurrent calls per uid. */
  async create(uid: string, backing: Backing, sizeBytes: number): Promise<string> {
    const file = this.pathOf(uid);
    if (await this.exists(uid)) return file;
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const tmp = `${file}.${randomBytes(4).toString("hex")}.tmp`;
    try {
      await createOverlay(tmp, backing, sizeBytes);
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
    return file;
  }

  async remove(uid: string): Promise<void> {
    await rm(this.pathOf(uid), { force: true });
  }

  /** Uids of the overlays present. */
  async list(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => n.endsWith(".qcow2")).map((n) => n.slice(0, -".qcow2".length));
  }
}
