// A profile's disk on a host (the data path of one session): check-out makes the disk a desktop
// gets, check-in publishes what the desktop wrote as the profile's next version.
//
// On the store a profile is a chain of immutable qcow2 versions, each backed by the one before
// it by a relative name, and a head (fence.ts) naming the chain. A host keeps a cache of versions
// in one directory per profile; because a version never changes, a cached copy is always good,
// and only the versions a host lacks are downloaded. The desktop's disk is a local overlay over
// the head (or an empty disk of the quota's size at a first logon), made in that directory and
// named as the version it will become, so that after check-in it is the cached copy of that
// version. During the session nothing touches the file server.
//
// Check-in: qemu-img check, upload to a temp name, fsync, read back and compare, publish once
// under its version name, then the head swap (fenced by the lock's epoch). Every step is
// idempotent, so a check-in that failed anywhere is retried from the start with nothing lost:
// the overlay stays until the head names it.
import { access, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { checkImage, createEmptyDisk, createOverlay, flattenImage } from "../volumes/index.js";
import { ProfileFence, StaleEpochError, type Head } from "./fence.js";
import { StoreError, type SftpStore } from "./sftp-store.js";

const VERSIONS = "versions";

export type ProfileMode = "ReadWrite" | "ReadOnly";

export interface CheckOutRequest {
  readonly store: SftpStore;
  /** The profile's directory on the store, relative to the store's root (its object name). */
  readonly profileDir: string;
  /** The host's cache directory for this profile. */
  readonly localDir: string;
  readonly mode: ProfileMode;
  /** The write lock's epoch (ReadWrite only). */
  readonly epoch?: number;
  /** Who the disk is for (a desktop's uid): names a ReadOnly session's throwaway disk. */
  readonly owner: string;
  /** The disk's size: the pool's quota. */
  readonly sizeBytes: number;
}

/** A checked-out disk, as remembered beside it (`<disk>.json`) so a check-in survives restarts. */
export interface CheckedOut {
  readonly disk: string;
  readonly mode: ProfileMode;
  readonly epoch?: number;
  /** The head the disk was made over. */
  readonly base: Head;
  /** The version name the disk gets on the store (ReadWrite). */
  readonly version?: string;
}

/** Version names sort by their place in the chain; the epoch keeps two writers' names apart. */
export function versionName(position: number, epoch: number): string {
  return `v${String(position).padStart(6, "0")}-e${epoch}.qcow2`;
}

/** A compacted base: the chain of `length` versions it merges, made by the writer of `epoch`. */
export function compactedName(length: number, epoch: number): string {
  return `c${String(length).padStart(6, "0")}-e${epoch}.qcow2`;
}

/**
 * Makes the disk a desktop gets: claims the epoch on the store (ReadWrite), fetches the versions
 * of the head this host lacks, and makes an overlay over the head. Idempotent: a disk already
 * checked out for this owner and epoch is returned as it is, never made again (it may hold the
 * user's writes).
 */
export async function checkOut(req: CheckOutRequest): Promise<CheckedOut> {
  await mkdir(req.localDir, { recursive: true, mode: 0o755 });
  const fence = new ProfileFence(req.store, req.profileDir);
  let head: Head;
  if (req.mode === "ReadWrite") {
    const epoch = req.epoch ?? 0;
    if (epoch < 1) throw new Error("a ReadWrite check-out needs the lock's epoch");
    const known = await readState(path.join(req.localDir, `${ownerStem(req.owner)}.json`));
    if (known?.epoch === epoch) return known; // checked out before (an agent restart)
    head = await claimOrResume(fence, epoch);
  } else head = (await fence.readHead()).head;

  for (const name of head.chain) {
    const local = path.join(req.localDir, name);
    if (!(await exists(local)))
      await req.store.download(path.posix.join(req.profileDir, VERSIONS, name), local);
  }
  const version =
    req.mode === "ReadWrite" ? versionName(head.chain.length + 1, req.epoch as number) : undefined;
  const disk = path.join(req.localDir, version ?? `ro-${ownerStem(req.owner)}.qcow2`);
  const top = head.chain[head.chain.length - 1];
  if (!(await exists(disk))) {
    const part = `${disk}.new`;
    await rm(part, { force: true });
    if (top === undefined) await createEmptyDisk(part, req.sizeBytes);
    else await createOverlay(part, { path: top, format: "qcow2", virtualSize: 0 }, req.sizeBytes);
    await rename(part, disk);
  }
  const out: CheckedOut = {
    disk,
    mode: req.mode,
    base: head,
    ...(req.epoch !== undefined && req.mode === "ReadWrite" ? { epoch: req.epoch } : {}),
    ...(version ? { version } : {}),
  };
  await writeFile(path.join(req.localDir, `${ownerStem(req.owner)}.json`), JSON.stringify(out));
  return out;
}

export interface CheckInResult {
  readonly head: Head;
  readonly version: string;
  /** Bytes sent to the store (the version, and a compacted base if one was made). */
  readonly sizeBytes: number;
  /** The compacted base the chain was merged into, when it was. */
  readonly compacted?: string;
}

export interface CheckInOptions {
  /** Once the chain is longer than this, it is merged into one new base (on a private copy). */
  readonly compactAfter?: number;
}

/**
 * Publishes a ReadWrite disk (detached from its VM: nothing writes it any more) as the profile's
 * next version and names it head; then, if the chain has grown past `compactAfter`, merges it
 * into a new base, published like any version. Throws StaleEpochError when a newer lock has
 * claimed the profile (the head is then not touched), StoreError when the file server fails;
 * retry later.
 */
export async function checkIn(
  store: SftpStore,
  profileDir: string,
  out: CheckedOut,
  opts: CheckInOptions = {},
): Promise<CheckInResult> {
  if (out.mode !== "ReadWrite" || !out.version || !out.epoch)
    throw new Error(`${out.disk} is not a writable check-out`);
  const fence = new ProfileFence(store, profileDir);
  const newest = await fence.newestEpoch();
  if (newest !== out.epoch) throw new StaleEpochError(out.epoch, newest, "checking in the profile");
  const sent = await publishVersion(store, profileDir, out.disk, out.version);
  const head = { chain: [...out.base.chain, out.version] };
  await fence.publish(out.epoch, head);
  if (!opts.compactAfter || head.chain.length <= opts.compactAfter)
    return { head, version: out.version, sizeBytes: sent };
  // Compaction: the chain, all cached here, merged into a new file (never into a published
  // version: a version is never rewritten), published, then named head on its own.
  const localDir = path.dirname(out.disk);
  const compacted = compactedName(head.chain.length, out.epoch);
  const file = path.join(localDir, compacted);
  if (!(await exists(file))) {
    const part = `${file}.part`;
    await rm(part, { force: true });
    await flattenImage(out.disk, part);
    await rename(part, file);
  }
  const base = await publishVersion(store, profileDir, file, compacted);
  const merged = { chain: [compacted] };
  await fence.publish(out.epoch, merged);
  return { head: merged, version: out.version, sizeBytes: sent + base, compacted };
}

/** qemu-img check, upload, fsync, read back, publish once under `name`; resolves the bytes sent. */
async function publishVersion(
  store: SftpStore,
  profileDir: string,
  file: string,
  name: string,
): Promise<number> {
  await checkImage(file);
  const remote = path.posix.join(profileDir, VERSIONS, name);
  const upload = await store.upload(file, remote);
  await store.verify(upload);
  try {
    await store.publishOnce(upload, remote);
  } catch (err) {
    if (!(err instanceof StoreError && err.code === "Exists")) throw err;
    // An earlier attempt published it, then failed before the head swap: it must be ours, byte
    // for byte (the name carries our epoch), or nothing goes on.
    await store.verify({ ...upload, tempPath: remote });
  }
  return upload.size;
}

/** Forgets a check-out once it is published or thrown away; a ReadOnly disk is removed. */
export async function release(localDir: string, owner: string, out: CheckedOut | undefined): Promise<void> {
  if (out?.mode === "ReadOnly") await rm(out.disk, { force: true });
  // A published ReadWrite disk stays: it is the cached copy of its version now.
  await rm(path.join(localDir, `${ownerStem(owner)}.json`), { force: true });
}

/** The check-out remembered for `owner`, if any. */
export function checkedOut(localDir: string, owner: string): Promise<CheckedOut | undefined> {
  return readState(path.join(localDir, `${ownerStem(owner)}.json`));
}

/** Claims `epoch` on the store, or finds it claimed by an earlier attempt of this writer. */
async function claimOrResume(fence: ProfileFence, epoch: number): Promise<Head> {
  try {
    return await fence.claim(epoch);
  } catch (err) {
    if (!(err instanceof StaleEpochError) || err.newest !== epoch) throw err;
    return (await fence.readHead()).head; // claimed before, by this lock's writer
  }
}

function ownerStem(owner: string): string {
  if (!/^[A-Za-z0-9-]{1,64}$/.test(owner)) throw new Error(`invalid disk owner ${JSON.stringify(owner)}`);
  return `disk-${owner}`;
}

async function readState(file: string): Promise<CheckedOut | undefined> {
  try {
    return JSON.parse(await readFile(file, "utf8")) as CheckedOut;
  } catch {
    return undefined;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}
