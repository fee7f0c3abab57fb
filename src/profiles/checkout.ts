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
import {
  allocatedBytes,
  checkImage,
  createEmptyDisk,
  createOverlay,
  diskInfo,
  flattenImage,
  ImageRefusedError,
  inspectImage,
} from "../volumes/index.js";
import { ProfileFence, StaleEpochError, type Head } from "./fence.js";
import { retentionPlan } from "./retention.js";
import { StoreError, type SftpStore } from "./sftp-store.js";
import { compactedName, lineagePosition, readVersions, VERSIONS, versionName } from "./versions.js";

export type ProfileMode = "ReadWrite" | "ReadOnly";

/**
 * Profile images use 16 KiB clusters, not qcow2's 64 KiB: a version's own metadata (about five
 * clusters) then adds 80 KiB instead of 320 KiB to what a session changed, so a 1 MiB change
 * sends 1.08 MiB rather than 1.31 MiB (measured with bench/profiles.ts).
 */
const PROFILE_IMAGE = { clusterSize: 16 * 1024 };

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
  /** A write-back under way: the overlay the VM is being moved onto (see checkpoint). */
  readonly next?: string;
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

  for (const [i, name] of head.chain.entries()) {
    const local = path.join(req.localDir, name);
    if (!(await exists(local))) await downloadVersion(req.store, req.profileDir, local, head.chain[i - 1]);
  }
  const version =
    req.mode === "ReadWrite" ? versionName(lineagePosition(head.chain) + 1, req.epoch as number) : undefined;
  const disk = path.join(req.localDir, version ?? `ro-${ownerStem(req.owner)}.qcow2`);
  const top = head.chain[head.chain.length - 1];
  if (!(await exists(disk))) {
    const part = `${disk}.new`;
    await rm(part, { force: true });
    if (top === undefined) await createEmptyDisk(part, req.sizeBytes, PROFILE_IMAGE);
    else
      await createOverlay(part, { path: top, format: "qcow2", virtualSize: 0 }, req.sizeBytes, PROFILE_IMAGE);
    await rename(part, disk);
  }
  const out: CheckedOut = {
    disk,
    mode: req.mode,
    base: head,
    ...(req.epoch !== undefined && req.mode === "ReadWrite" ? { epoch: req.epoch } : {}),
    ...(version ? { version } : {}),
  };
  await saveState(req.localDir, req.owner, out);
  return out;
}

/**
 * Downloads one version of the chain and keeps it only when the inspector accepts it: a plain
 * qcow2 image over exactly the version before it (or none, for the first). The store is not the
 * host's to trust: a version that names another backing file or an external data file would
 * have QEMU, running as root's helper, read a file of the host into the user's disk.
 */
async function downloadVersion(
  store: SftpStore,
  profileDir: string,
  local: string,
  below: string | undefined,
): Promise<void> {
  const name = path.basename(local);
  const unchecked = `${local}.unchecked`;
  try {
    await store.download(path.posix.join(profileDir, VERSIONS, name), unchecked);
    await inspectImage(unchecked, { format: "qcow2", ...(below !== undefined ? { backing: below } : {}) });
    await rename(unchecked, local);
  } catch (err) {
    if (err instanceof ImageRefusedError)
      throw new Error(`profile version ${name} on the store is ${err.message}`);
    throw err;
  } finally {
    await rm(unchecked, { force: true });
  }
}

export interface CheckInResult {
  readonly head: Head;
  readonly version: string;
  /** Bytes sent to the store (the version, and a compacted base if one was made). */
  readonly sizeBytes: number;
  /** The compacted base the chain was merged into, when it was. */
  readonly compacted?: string;
  /** Bytes of data the profile holds (its whole chain): what it uses of its quota. */
  readonly usedBytes: number;
  /** What tidying the store after the publish did, or why it failed (the publish stands). */
  readonly tidied?: Tidied | { readonly error: string };
}

export interface CheckInOptions {
  /** Once the chain is longer than this, it is merged into one new base (on a private copy). */
  readonly compactAfter?: number;
  /** After the publish, keep this many of the newest versions (and what they need); delete the rest. */
  readonly retain?: number;
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
  const published = await publishDisk(store, profileDir, out, "checking in the profile");
  const { epoch, version, usedBytes, sent } = published;
  let head = published.head;
  let compacted: { name: string; bytes: number } | undefined;
  if (opts.compactAfter && head.chain.length > opts.compactAfter) {
    compacted = await compact(store, profileDir, out, epoch);
    head = { chain: [compacted.name] };
    await new ProfileFence(store, profileDir).publish(epoch, head);
  }
  const result: CheckInResult = {
    head,
    version,
    sizeBytes: sent + (compacted?.bytes ?? 0),
    usedBytes,
    ...(compacted ? { compacted: compacted.name } : {}),
  };
  if (opts.retain === undefined) return result;
  const tidied = await tidy(store, profileDir, epoch, [head.chain, out.base.chain], opts.retain).catch(
    (err: unknown) => ({ error: err instanceof Error ? err.message : String(err) }),
  );
  return { ...result, tidied };
}

interface Published {
  readonly epoch: number;
  readonly version: string;
  readonly head: Head;
  readonly sent: number;
  readonly usedBytes: number;
}

/** Publishes a writable check-out's disk (nothing writes it any more) as its version, and names it head. */
async function publishDisk(
  store: SftpStore,
  profileDir: string,
  out: CheckedOut,
  what: string,
): Promise<Published> {
  const { epoch, version } = out;
  if (out.mode !== "ReadWrite" || !version || !epoch)
    throw new Error(`${out.disk} is not a writable check-out`);
  const fence = new ProfileFence(store, profileDir);
  const newest = await fence.newestEpoch();
  if (newest !== epoch) throw new StaleEpochError(epoch, newest, what);
  const usedBytes = await allocatedBytes(out.disk);
  const sent = await publishVersion(store, profileDir, out.disk, version);
  const head: Head = { chain: [...out.base.chain, version] };
  await fence.publish(epoch, head);
  return { epoch, version, head, sent, usedBytes };
}

/**
 * Write-back during the session: `freeze` moves the running VM onto a fresh overlay over the
 * session's disk (the adapter's freezeDisk), the frozen disk is published as its version and
 * named head, and the overlay becomes the session's disk, named as the version after it. The
 * intent is recorded first, so a restart at any step resumes it; without `freeze` (at logoff,
 * the VM has let go of both files) an interrupted write-back is only finished: whether or not
 * the freeze happened, publishing the disk and then the overlay (maybe empty) loses nothing.
 * No compaction here: the overlay is backed by the frozen version, so the chain must stay whole
 * until check-in.
 */
export async function checkpoint(
  store: SftpStore,
  profileDir: string,
  owner: string,
  out: CheckedOut,
  freeze?: (next: string) => Promise<boolean>,
): Promise<{ out: CheckedOut; published?: CheckInResult }> {
  if (out.mode !== "ReadWrite" || !out.version || !out.epoch)
    throw new Error(`${out.disk} is not a writable check-out`);
  const localDir = path.dirname(out.disk);
  const nextVersion = versionName(lineagePosition([out.version]) + 1, out.epoch);
  const next = path.join(localDir, nextVersion);
  if (!freeze) {
    if (!out.next) return { out };
    if (!(await exists(out.next))) {
      const { next: _dropped, ...unchanged } = out; // the overlay was never made: nothing froze
      await saveState(localDir, owner, unchanged);
      return { out: unchanged };
    }
  } else {
    if (out.next !== next) await saveState(localDir, owner, (out = { ...out, next }));
    if (!(await exists(next))) {
      const part = `${next}.new`;
      await rm(part, { force: true });
      const { virtualSize } = await diskInfo(out.disk, "qcow2");
      const backing = { path: path.basename(out.disk), format: "qcow2", virtualSize };
      await createOverlay(part, backing, virtualSize, PROFILE_IMAGE);
      await rename(part, next);
    }
    if (!(await freeze(next)))
      throw new Error(`the profile disk ${out.disk} is not attached: nothing to write back`);
  }
  const published = await publishDisk(store, profileDir, out, "writing the profile back");
  const after: CheckedOut = {
    disk: next,
    mode: "ReadWrite",
    epoch: published.epoch,
    base: published.head,
    version: nextVersion,
  };
  await saveState(localDir, owner, after);
  return {
    out: after,
    published: {
      head: published.head,
      version: published.version,
      sizeBytes: published.sent,
      usedBytes: published.usedBytes,
    },
  };
}

/**
 * Compaction: the chain, all cached on this host, merged into a new standalone file (never into
 * a published version: a version is never rewritten), and published like any version.
 */
async function compact(
  store: SftpStore,
  profileDir: string,
  out: CheckedOut,
  epoch: number,
): Promise<{ name: string; bytes: number }> {
  const name = compactedName(lineagePosition([out.version as string]), epoch);
  const file = path.join(path.dirname(out.disk), name);
  if (!(await exists(file))) {
    const part = `${file}.part`;
    await rm(part, { force: true });
    await flattenImage(out.disk, part, PROFILE_IMAGE);
    await rename(part, file);
  }
  return { name, bytes: await publishVersion(store, profileDir, file, name) };
}

export interface Tidied {
  /** Versions deleted from the store (beyond the retention, needed by no chain). */
  readonly removed: string[];
  /** Leftovers of interrupted uploads collected. */
  readonly partials: number;
  /** Versions on the store now, and the bytes they take. */
  readonly versions: number;
  readonly storeBytes: number;
  /** What a restore may name, newest first. */
  readonly restorable: string[];
}

/**
 * Keeps the newest `retain` versions (with the chains they need, and the `pinned` chains) and
 * deletes the other versions, and collects what interrupted uploads left. Only the writer of the
 * newest epoch tidies, while it holds the lock: nothing else writes the profile then (a restore
 * and an erase wait for the lock), so an upload in a temp directory is nobody's any more.
 */
export async function tidy(
  store: SftpStore,
  profileDir: string,
  epoch: number,
  pinned: readonly (readonly string[])[],
  retain: number,
): Promise<Tidied> {
  const { backings, sizes } = await readVersions(store, profileDir);
  const plan = retentionPlan(backings, retain, pinned);
  const newest = await new ProfileFence(store, profileDir).newestEpoch();
  if (newest !== epoch) throw new StaleEpochError(epoch, newest, "tidying the profile");
  const versionsDir = path.posix.join(profileDir, VERSIONS);
  for (const name of plan.remove) await store.delete(path.posix.join(versionsDir, name));
  let partials = 0;
  for (const dir of [VERSIONS, "epochs", "heads"])
    partials += (await store.collectPartials(path.posix.join(profileDir, dir), 0)).length;
  return {
    removed: plan.remove,
    partials,
    versions: plan.keep.length,
    storeBytes: plan.keep.reduce((sum, name) => sum + (sizes.get(name) ?? 0), 0), // versions never change size
    restorable: plan.restorable,
  };
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

async function saveState(localDir: string, owner: string, out: CheckedOut): Promise<void> {
  const file = path.join(localDir, `${ownerStem(owner)}.json`);
  await writeFile(`${file}.new`, JSON.stringify(out));
  await rename(`${file}.new`, file); // never half-written, whenever the agent dies
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
