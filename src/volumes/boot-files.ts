// Direct-kernel-boot files (kernel, initrd) named by an image's `boot` block, copied into
// `<storagePath>/boot/` once per source, so QEMU reads them from the host's own disk like the
// golden image. They carry no checksum, so a source is taken as immutable (as its name
// should say); one copy per source at a time, made under a temporary name and renamed.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { fetchTo, locate } from "./fetch.js";

export class BootFiles {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(readonly dir: string) {}

  /** The local copy of `source`, fetching it first when absent. Rejects AdapterError ImagePullFailed. */
  ensure(source: string): Promise<string> {
    let pending = this.inFlight.get(source);
    if (pending === undefined) {
      pending = this.load(source).finally(() => this.inFlight.delete(source));
      this.inFlight.set(source, pending);
    }
    return pending;
  }

  pathOf(source: string): string {
    const loc = locate(source);
    const base = path.basename(loc.kind === "file" ? loc.path : new URL(loc.url).pathname) || "file";
    const key = createHash("sha256").update(source).digest("hex").slice(0, 16);
    return path.join(this.dir, `${key}-${base.replace(/[^A-Za-z0-9._-]/g, "_")}`);
  }

  private async load(source: string): Promise<string> {
    const file = this.pathOf(source);
    if (
      await stat(file).then(
        () => true,
        () => false,
      )
    )
      return file;
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    const tmp = `${file}.${process.pid}.${randomBytes(4).toString("hex")}.part`;
    try {
      await fetchTo(source, tmp);
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
    return file;
  }
}
