// A host's storage directory as the libvirt adapter uses it: images/ (golden-image cache),
// boot/ (kernels and initrds), overlays/ (one qcow2 and one record per desktop), notices/ (the
// sockets of desktops' serial ports, see notice-channel.ts) and tmp/ (domain XML on its way to
// libvirt). One instance per directory in a process, shared by the
// adapters made for it over time, so a restarted adapter joins the pulls and locks in flight.
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Clock } from "../clock.js";
import { BootFiles, ImageCache, Overlays, type SourcePolicy } from "../../volumes/index.js";
import type { LibvirtHostConfig } from "./config.js";
import { KeyedLock } from "./keyed-lock.js";
import { noticeSocketPath } from "./notice-channel.js";
import { VmRecords } from "./records.js";

export class HostStorage {
  readonly cache: ImageCache;
  readonly boot: BootFiles;
  readonly overlays: Overlays;
  readonly records: VmRecords;
  /** Per-uid lock around overlay, domain and record changes. */
  readonly locks = new KeyedLock();
  readonly tmpDir: string;
  readonly noticesDir: string;
  private ready?: Promise<void>;

  constructor(
    readonly root: string,
    config: Pick<LibvirtHostConfig, "imageCacheMinFreeBytes" | "imageRetryAfterMs">,
    clock: Clock,
    readonly sources: SourcePolicy,
  ) {
    this.overlays = new Overlays(path.join(root, "overlays"));
    this.records = new VmRecords(path.join(root, "overlays"));
    this.boot = new BootFiles(path.join(root, "boot"), sources);
    this.tmpDir = path.join(root, "tmp");
    this.noticesDir = path.join(root, "notices");
    this.cache = new ImageCache({
      dir: path.join(root, "images"),
      clock,
      minFreeBytes: config.imageCacheMinFreeBytes,
      retryAfterMs: config.imageRetryAfterMs,
      inUse: () => this.imagesInUse(),
      sources,
    });
  }

  /** Creates the directories (0755: QEMU runs as an unprivileged user and must reach them). */
  ensureDirs(): Promise<void> {
    this.ready ??= (async () => {
      for (const dir of [
        this.root,
        this.cache.store.dir,
        this.boot.dir,
        this.overlays.dir,
        this.tmpDir,
        this.noticesDir,
      ])
        await mkdir(dir, { recursive: true, mode: 0o755 });
    })();
    return this.ready;
  }

  /** Where a desktop's serial port listens for notices (undefined: path too long to bind). */
  noticeSocket(uid: string): string | undefined {
    return noticeSocketPath(this.noticesDir, uid);
  }

  /** The images that desktops on this host use (their records name them). */
  async imagesInUse(): Promise<Set<string>> {
    return new Set((await this.records.list()).map((r) => r.imageSha256));
  }
}
