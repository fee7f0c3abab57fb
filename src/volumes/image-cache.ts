// The host's golden-image cache: an image (keyed by sha256) is fetched from its source once,
// verified while it is copied, and then shared by every overlay made over it. Concurrent callers
// for one sha256 share one pull; a checksum mismatch leaves nothing behind and is remembered
// for `retryAfterMs`, so a storm of desktops does not re-fetch a bad image; unused images are
// evicted, least recently used first, when free disk space falls below `minFreeBytes`.
import { rm, statfs } from "node:fs/promises";
import type { ImageRef, ImageStatus } from "../hypervisors/adapter.js";
import type { Clock } from "../hypervisors/clock.js";
import { AdapterError, toAdapterError } from "../hypervisors/errors.js";
import { chooseEvictions } from "./eviction.js";
import { fetchTo } from "./fetch.js";
import type { SourcePolicy } from "./source-policy.js";
import { ImageStore, type CachedImage } from "./image-store.js";
import { ImageRefusedError, inspectImage } from "./image-inspector.js";
import { diskInfo } from "./qemu-img.js";

export interface ImageCacheOptions {
  readonly dir: string;
  readonly clock: Clock;
  /** Evict unused images while the file system has less free space than this. */
  readonly minFreeBytes: number;
  /** A failed pull is reported, and answered from memory, this long before it is tried again. */
  readonly retryAfterMs: number;
  /** The sha256s that overlays (or VMs being made) use: never evicted. */
  readonly inUse: () => Promise<ReadonlySet<string>>;
  /** What sources may be opened, and the size and stall bounds of each fetch. */
  readonly sources: SourcePolicy;
}

interface Pull {
  readonly ref: ImageRef;
  promise: Promise<CachedImage>;
  /** True once bytes are being fetched (not only looked up in the cache). */
  fetching: boolean;
}

export type ImageListener = (status: ImageStatus) => void;

export class ImageCache {
  readonly store: ImageStore;
  /** Fetches started since this cache was made (the contract's "one pull" check). */
  pullsStarted = 0;
  private readonly pulls = new Map<string, Pull>();
  private readonly failures = new Map<string, { ref: ImageRef; error: AdapterError; at: number }>();
  private readonly listeners = new Set<ImageListener>();

  constructor(private readonly o: ImageCacheOptions) {
    this.store = new ImageStore(o.dir);
  }

  /** Hints when a fetch ends (ready or failed); returns the unsubscribe function. */
  onChange(listener: ImageListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The cached image, fetching it first when absent (one fetch per sha256 at a time). */
  ensure(ref: ImageRef): Promise<CachedImage> {
    const existing = this.pulls.get(ref.sha256);
    if (existing !== undefined) return existing.promise;
    const pull = { ref, fetching: false } as Pull;
    pull.promise = this.load(pull).finally(() => this.pulls.delete(ref.sha256));
    this.pulls.set(ref.sha256, pull);
    return pull.promise;
  }

  /** The image's state here, or undefined when the host has never heard of it. */
  async status(sha256: string): Promise<ImageStatus | undefined> {
    const pull = this.pulls.get(sha256);
    if (pull?.fetching) return { ...refOf(pull.ref), state: "pulling" };
    const cached = await this.store.get(sha256);
    if (cached !== undefined) return readyStatus(cached);
    const failed = this.failures.get(sha256);
    if (failed === undefined) return undefined;
    const { reason, message } = failed.error;
    return { ...refOf(failed.ref), state: "failed", reason, message };
  }

  /** Cached, in-flight and failed images. */
  async list(): Promise<ImageStatus[]> {
    const shas = new Set([...this.pulls.keys(), ...this.failures.keys()]);
    for (const c of await this.store.list()) shas.add(c.meta.sha256);
    const all = await Promise.all([...shas].map((sha) => this.status(sha)));
    return all.filter((s): s is ImageStatus => s !== undefined);
  }

  /** Removes unused images, least recently used first, while free space is below the threshold. */
  async evictIfNeeded(): Promise<string[]> {
    const fs = await statfs(this.o.dir).catch(() => undefined);
    if (fs === undefined) return [];
    const free = fs.bavail * fs.bsize;
    if (free >= this.o.minFreeBytes) return [];
    const used = new Set([...(await this.o.inUse()), ...this.pulls.keys()]);
    const cached = (await this.store.list()).map((c) => ({ ...c.meta, lastUsed: c.lastUsed }));
    const victims = chooseEvictions(cached, used, free, this.o.minFreeBytes);
    for (const sha of victims) await this.store.remove(sha);
    return victims;
  }

  private async load(pull: Pull): Promise<CachedImage> {
    const { ref } = pull;
    const cached = await this.store.get(ref.sha256);
    if (cached !== undefined) {
      this.failures.delete(ref.sha256);
      await this.store.touch(ref.sha256, this.o.clock.now());
      return cached;
    }
    const failed = this.failures.get(ref.sha256);
    if (failed !== undefined && this.o.clock.now() - failed.at < this.o.retryAfterMs) throw failed.error;
    pull.fetching = true;
    this.pullsStarted++;
    try {
      const image = await this.fetch(ref);
      this.failures.delete(ref.sha256);
      this.emit(readyStatus(image));
      return image;
    } catch (err) {
      const error = toAdapterError(err);
      this.failures.set(ref.sha256, { ref, error, at: this.o.clock.now() });
      this.emit({ ...refOf(ref), state: "failed", reason: error.reason, message: error.message });
      throw error;
    }
  }

  private async fetch(ref: ImageRef): Promise<CachedImage> {
    await this.store.cleanStale();
    await this.evictIfNeeded();
    const tmp = await this.store.tempFile(ref.sha256);
    try {
      const got = await fetchTo(ref.source, tmp, this.o.sources);
      if (got.sha256 !== ref.sha256) {
        throw new AdapterError(
          "ImageChecksumMismatch",
          // Never the digest of what was read: that would tell a pool author about a file
          // (any file the agent can read) they may not see.
          `${ref.source} does not match the sha256 the image names (${ref.sha256}); nothing of it was kept`,
        );
      }
      // Judged from its header before qemu-img opens it: a plain image of the declared format,
      // with no backing file (the inspector's refusal covers what qemu-img used to be asked).
      await inspectImage(tmp, { format: ref.format }).catch((err: unknown) => {
        if (err instanceof ImageRefusedError) refuse(ref, err.message);
        throw err;
      });
      const info = await diskInfo(tmp, ref.format);
      const meta = { ...refOf(ref), sizeBytes: got.sizeBytes, virtualSize: info.virtualSize };
      return await this.store.commit(tmp, meta);
    } finally {
      await rm(tmp, { force: true });
    }
  }

  private emit(status: ImageStatus): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(status);
      } catch {
        // Listeners must not throw; one that does must not break the cache.
      }
    }
  }
}

/** A golden image that must not be used: not retried, since the same bytes get the same answer. */
function refuse(ref: ImageRef, why: string): never {
  throw new AdapterError("ImagePullFailed", `${ref.source}: ${why}`, { retryable: false });
}

function refOf(ref: ImageRef): ImageRef {
  return { source: ref.source, sha256: ref.sha256, format: ref.format };
}

function readyStatus(c: CachedImage): ImageStatus {
  return { ...refOf(c.meta), state: "ready", sizeBytes: c.meta.sizeBytes };
}
