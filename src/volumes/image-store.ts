// The golden-image cache on disk, `<storagePath>/images/`: `<sha256>.img` (the verified bytes)
// and `<sha256>.json` (where it came from, its format and sizes). The data file is renamed into
// place first and the metadata written last, so an image counts as cached exactly when its
// metadata exists. The metadata file's mtime is the image's last use (for LRU eviction).
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ImageFormat } from "../hypervisors/adapter.js";

export interface ImageMeta {
  readonly source: string;
  readonly sha256: string;
  readonly format: ImageFormat;
  readonly sizeBytes: number;
  /** The disk size the guest sees (qemu-img's virtual size). */
  readonly virtualSize: number;
}

export interface CachedImage {
  readonly meta: ImageMeta;
  readonly file: string;
  /** Milliseconds since the epoch. */
  readonly lastUsed: number;
}

const PART = /^\.([0-9a-f]{64})\.(\d+)\.[0-9a-f]+\.part$/;

export class ImageStore {
  constructor(readonly dir: string) {}

  fileOf(sha256: string): string {
    return path.join(this.dir, `${sha256}.img`);
  }

  private metaOf(sha256: string): string {
    return path.join(this.dir, `${sha256}.json`);
  }

  /** A temporary name for a fetch in progress; it names this process, for cleanStale. */
  async tempFile(sha256: string): Promise<string> {
    await mkdir(this.dir, { recursive: true, mode: 0o755 });
    return path.join(this.dir, `.${sha256}.${process.pid}.${randomBytes(4).toString("hex")}.part`);
  }

  async get(sha256: string): Promise<CachedImage | undefined> {
    try {
      const metaFile = this.metaOf(sha256);
      const [text, info] = await Promise.all([readFile(metaFile, "utf8"), stat(metaFile)]);
      const meta = JSON.parse(text) as ImageMeta;
      await stat(this.fileOf(sha256));
      return { meta, file: this.fileOf(sha256), lastUsed: info.mtimeMs };
    } catch {
      return undefined;
    }
  }

  async list(): Promise<CachedImage[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const shas = names.filter((n) => /^[0-9a-f]{64}\.json$/.test(n)).map((n) => n.slice(0, 64));
    const found = await Promise.all(shas.map((sha) => this.get(sha)));
    return found.filter((c): c is CachedImage => c !== undefined);
  }

  /** Marks an image used now. */
  async touch(sha256: string, now: number): Promise<void> {
    const t = new Date(now);
    await utimes(this.metaOf(sha256), t, t).catch(() => undefined);
  }

  /** Moves a verified temporary file into place and records its metadata. */
  async commit(tmp: string, meta: ImageMeta): Promise<CachedImage> {
    await rename(tmp, this.fileOf(meta.sha256));
    const metaTmp = `${this.metaOf(meta.sha256)}.${process.pid}.tmp`;
    await writeFile(metaTmp, JSON.stringify(meta, null, 2), { mode: 0o644 });
    await rename(metaTmp, this.metaOf(meta.sha256));
    return (await this.get(meta.sha256)) as CachedImage;
  }

  /** Forgets the image (metadata first, so it is never listed half-removed). */
  async remove(sha256: string): Promise<void> {
    await rm(this.metaOf(sha256), { force: true });
    await rm(this.fileOf(sha256), { force: true });
  }

  /** Removes partial fetches left by processes that no longer run (an agent killed mid-copy). */
  async cleanStale(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const stale = names.filter((n) => {
      const m = PART.exec(n);
      return m !== null && !alive(Number(m[2]));
    });
    await Promise.all(stale.map((n) => rm(path.join(this.dir, n), { force: true })));
    return stale;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
