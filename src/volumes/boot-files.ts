// Direct-kernel-boot files (kernel, initrd) named by an image's `boot` block, copied into
// `<storagePath>/boot/` once per sha256, so QEMU reads them from the host's own disk like the
// golden image. Each is verified by its sha256 while it is copied, like an image: a copy whose
// digest differs is removed and refused, and only the expected digest is named. One copy per
// sha256 at a time, made under a temporary name and renamed.
import { randomBytes } from "node:crypto";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { AdapterError } from "../hypervisors/errors.js";
import { fetchTo } from "./fetch.js";
import { locate, type SourcePolicy } from "./source-policy.js";

/** A boot file as a pool names it: where it is and what its bytes hash to. */
export interface BootFileRef {
  readonly source: string;
  readonly sha256: string;
}

export class BootFiles {
  private readonly inFlight = new Map<string, Promise<string>>();

  constructor(
    readonly dir: string,
    private readonly policy: SourcePolicy,
  ) {}

  /**
   * The local copy of `ref`, fetching it first when absent. Rejects AdapterError
   * SourceNotAllowed, ImagePullFailed, or ImageChecksumMismatch when the bytes are not the ones
   * named.
   */
  ensure(ref: BootFileRef): Promise<string> {
    let pending = this.inFlight.get(ref.sha256);
    if (pending === undefined) {
      pending = this.load(ref).finally(() => this.inFlight.delete(ref.sha256));
      this.inFlight.set(ref.sha256, pending);
    }
    return pending;
  }

  /** `<sha256>-<the source's file name>`: the digest keys it, the name tells a person what it is. */
  pathOf(ref: BootFileRef): string {
    const loc = locate(ref.source);
    const base = path.basename(loc.kind === "file" ? loc.path : new URL(loc.url).pathname) || "file";
    return path.join(this.dir, `${ref.sha256}-${base.replace(/[^A-Za-z0-9._-]/g, "_")}`);
  }

  private async load(ref: BootFileRef): Promise<string> {
    const file = this.pathOf(ref);
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
      const got = await fetchTo(ref.source, tmp, this.policy);
      if (got.sha256 !== ref.sha256)
        throw new AdapterError(
          "ImageChecksumMismatch",
          // As for images: never the digest of what was read.
          `boot file ${ref.source} does not match the sha256 the image names (${ref.sha256}); nothing of it was kept`,
        );
      await rename(tmp, file);
    } finally {
      await rm(tmp, { force: true });
    }
    return file;
  }
}
