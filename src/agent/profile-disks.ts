// The agent's side of a user's profile (issue 21's data path), for the desktops it serves: at
// logon the profile's disk is checked out from the store and hot-plugged into the running
// desktop (src/profiles/checkout.ts); at logoff, before the desktop is destroyed, the disk is
// unplugged (the guest writes back what it holds) and, for the session holding the write lock,
// published as the profile's next version; a read-only session's disk is thrown away. The
// store's credentials come from the Secret the pool names, read when needed, never logged.
//
// A host whose adapter keeps no disks in files (the simulated one) gets a pretend sync: a size
// and a latency, and the same status on the DesktopProfile, so `make run` and the scale
// benchmarks show profiles too. It is never the test of the real path.
import path from "node:path";
import { toKubeTime } from "../api/index.js";
import type { Condition, Desktop, DesktopProfile, ProfileAssignment } from "../api/index.js";
import { setCondition } from "../api/index.js";
import type { EventSink } from "../controllers/shared/events.js";
import {
  checkedOut,
  checkIn,
  checkOut,
  checkpoint,
  release,
  type CheckInResult,
} from "../profiles/checkout.js";
import { StaleEpochError } from "../profiles/fence.js";
import type { SftpStore } from "../profiles/sftp-store.js";
import { profileStoreDir, withStore, type SecretObject } from "../profiles/store-config.js";
import { versionName } from "../profiles/versions.js";
import type { Cached, Clock, ObjectClient } from "../runtime/index.js";
import { parseBytes } from "../scheduler/quantity.js";
import { desktopIdentity } from "./desktop-vm.js";
import type { ServedHost } from "./hosts.js";
import { formatBytesRounded } from "../controllers/shared/format.js";
import { quotaState } from "../profiles/quota.js";

/** The serial the guest finds its profile disk by. */
export const PROFILE_DISK_SERIAL = "griddesk-profile";

export interface ProfileDisksDeps {
  readonly secrets: ObjectClient<SecretObject>;
  readonly profiles: ObjectClient<DesktopProfile>;
  readonly events: EventSink;
  readonly clock: Clock;
  /** A pretend sync's duration on a simulated host (ms). */
  readonly simulatedSyncMs: number;
}

/** What a logoff did with the profile. */
export type Released = "published" | "discarded" | "stale" | "none";

export class ProfileDisks {
  constructor(private readonly deps: ProfileDisksDeps) {}

  /** Logon: the desktop's profile disk, made and hot-plugged. Resolves the version it will become. */
  async attach(desktop: Cached<Desktop>, host: ServedHost): Promise<{ version?: string }> {
    const binding = assignment(desktop);
    const id = desktopIdentity(desktop);
    const dir = host.adapter.diskDir;
    if (dir === undefined) {
      await host.adapter.attachDisk(id, {
        path: `/simulated/${binding.name}.qcow2`,
        serial: PROFILE_DISK_SERIAL,
      });
      return {};
    }
    const out = await this.withStore(desktop, (store: SftpStore) =>
      checkOut({
        store,
        profileDir: storeDir(desktop),
        localDir: localDir(dir, desktop),
        mode: binding.mode,
        ...(binding.epoch !== undefined ? { epoch: binding.epoch } : {}),
        owner: id.uid,
        sizeBytes: parseBytes(binding.quota),
      }),
    );
    await host.adapter.attachDisk(id, { path: out.disk, serial: PROFILE_DISK_SERIAL });
    return out.version ? { version: out.version } : {};
  }

  /**
   * Logoff, before the VM goes: unplugs the disk, then publishes it (ReadWrite) or throws it
   * away (ReadOnly). Throws when the publish failed: the disk stays, and the caller retries.
   */
  async release(desktop: Cached<Desktop>, host: ServedHost): Promise<Released> {
    const binding = assignment(desktop);
    const id = desktopIdentity(desktop);
    const detached = await host.adapter.detachDisk(id, PROFILE_DISK_SERIAL);
    const dir = host.adapter.diskDir;
    if (dir === undefined) {
      if (!detached) return "none"; // never attached, or released by an earlier pass
      return binding.mode === "ReadWrite" ? this.pretendSync(desktop) : "discarded";
    }
    const local = localDir(dir, desktop);
    const out = await checkedOut(local, id.uid);
    if (out === undefined) return "none"; // never attached (a logoff before the disk was ready)
    if (out.mode === "ReadOnly") {
      await release(local, id.uid, out);
      return "discarded";
    }
    const started = this.deps.clock.now();
    await this.setProfileStatus(desktop, { state: "Syncing" });
    let result: CheckInResult;
    try {
      const { compactAfter, retention } = binding;
      result = await this.withStore(desktop, async (store: SftpStore) => {
        // A write-back an agent restart cut short is finished first (the VM has let go of both files).
        const { out: current } = await checkpoint(store, storeDir(desktop), id.uid, out);
        return checkIn(store, storeDir(desktop), current, {
          ...(compactAfter ? { compactAfter } : {}),
          ...(retention ? { retain: retention } : {}),
        });
      });
    } catch (err) {
      if (err instanceof StaleEpochError) {
        // A newer lock owns the profile (this host was fenced out while it was away): this disk
        // can never become head. It stays on the host (never deleted: it holds the user's
        // changes) and the desktop may go. Reported on both objects; the profile's state and
        // conditions belong to its current writer and are not touched.
        const why = `${err.message}: the save of ${out.version} is refused, never published; its disk is kept on host ${host.name} at ${out.disk}`;
        this.deps.events.event(desktop, "Warning", "StaleSaveRefused", why);
        const profile = await this.profileOf(desktop);
        if (profile)
          this.deps.events.event(
            profile,
            "Warning",
            "StaleSaveRefused",
            `desktop ${desktop.metadata.name}: ${why}`,
          );
        return "stale";
      }
      await this.failed(
        desktop,
        `publishing ${out.version ?? "the profile"} failed, retrying: ${message(err)}`,
      );
      throw err;
    }
    await this.synced(desktop, await this.profileOf(desktop), result, this.deps.clock.now() - started);
    await release(local, id.uid, out);
    return "published";
  }

  /**
   * Write-back during the session (the pool's writeBackInterval): the running VM is moved onto a
   * fresh overlay and what it wrote so far is published as a version and named head. Resolves
   * the version the disk becomes next. Throws when it failed; the next interval tries again, and
   * the logoff's check-in finishes one cut short.
   */
  async writeBack(desktop: Cached<Desktop>, host: ServedHost): Promise<{ version?: string }> {
    const binding = assignment(desktop);
    const id = desktopIdentity(desktop);
    const dir = host.adapter.diskDir;
    if (binding.mode !== "ReadWrite") return {};
    if (dir === undefined) {
      await this.pretendSync(desktop);
      return {};
    }
    const local = localDir(dir, desktop);
    const out = await checkedOut(local, id.uid);
    if (out?.mode !== "ReadWrite") return {};
    const started = this.deps.clock.now();
    const done = await this.withStore(desktop, (store: SftpStore) =>
      checkpoint(store, storeDir(desktop), id.uid, out, (next) =>
        host.adapter.freezeDisk(id, PROFILE_DISK_SERIAL, next),
      ),
    );
    if (done.published)
      await this.synced(
        desktop,
        await this.profileOf(desktop),
        done.published,
        this.deps.clock.now() - started,
        "written back",
      );
    return done.out.version ? { version: done.out.version } : {};
  }

  private async pretendSync(desktop: Cached<Desktop>): Promise<Released> {
    const started = this.deps.clock.now();
    await this.setProfileStatus(desktop, { state: "Syncing" });
    await new Promise((resolve) => setTimeout(resolve, this.deps.simulatedSyncMs));
    const binding = assignment(desktop);
    const profile = await this.profileOf(desktop);
    const versions = (profile?.status?.versions ?? 0) + 1;
    const size = 4 * 1024 ** 2; // what a simulated session writes
    const chain = Array.from({ length: versions }, (_, i) => versionName(i + 1, binding.epoch ?? 0));
    await this.synced(
      desktop,
      profile,
      {
        head: { chain },
        version: chain[chain.length - 1] as string,
        sizeBytes: size,
        usedBytes: versions * size,
      },
      this.deps.clock.now() - started,
    );
    return "published";
  }

  private async synced(
    desktop: Cached<Desktop>,
    profile: DesktopProfile | undefined,
    result: CheckInResult,
    tookMs: number,
    how = "saved",
  ): Promise<void> {
    const binding = assignment(desktop);
    const now = new Date(this.deps.clock.now());
    const took = `${(tookMs / 1000).toFixed(1)}s`;
    const quota = quotaState(result.usedBytes, parseBytes(binding.quota), formatBytesRounded);
    const tidied = result.tidied && "versions" in result.tidied ? result.tidied : undefined;
    const storeBytes = tidied?.storeBytes ?? sizeOf(profile) + result.sizeBytes;
    const gen = profile?.metadata.generation;
    let conditions = setCondition(
      profile?.status?.conditions,
      { type: "Synced", status: "True", reason: "Published", message: `version ${result.version} is head` },
      gen,
      now,
    );
    conditions = setCondition(
      conditions,
      {
        type: "AtQuota",
        status: quota.atQuota ? "True" : "False",
        reason: quota.atQuota ? "QuotaReached" : "BelowQuota",
        message: `the profile ${quota.message}`,
      },
      gen,
      now,
    );
    await this.setProfileStatus(desktop, {
      state: "InUse", // until the session lets go of the lock (the controller then writes Idle)
      head: result.compacted ?? result.version,
      versions: tidied?.versions ?? result.head.chain.length,
      ...(tidied ? { restorable: tidied.restorable.slice(0, 100) } : {}),
      size: formatBytesRounded(storeBytes),
      used: formatBytesRounded(result.usedBytes),
      quota: String(binding.quota),
      lastSyncTime: toKubeTime(now),
      lastSyncDuration: took,
      conditions: [...conditions],
    });
    const merged = result.compacted ? `, its chain merged into ${result.compacted}` : "";
    const removed = tidied?.removed.length ? `; ${tidied.removed.length} old versions deleted` : "";
    const what = `profile ${binding.name} ${how} as ${result.version}${merged} (${formatBytesRounded(result.sizeBytes)} sent in ${took})${removed}`;
    this.deps.events.event(desktop, "Normal", "ProfileSynced", what);
    if (quota.atQuota)
      this.deps.events.event(
        desktop,
        "Warning",
        "ProfileAtQuota",
        `profile ${binding.name} of ${profile?.spec.user ?? "its user"} ${quota.message}; raise the pool's spec.profile.quota or free space`,
      );
    if (result.tidied && "error" in result.tidied)
      this.deps.events.event(
        desktop,
        "Warning",
        "ProfileTidyFailed",
        `profile ${binding.name} is saved; deleting its old versions failed and is tried at the next logoff: ${result.tidied.error}`,
      );
  }

  private async failed(desktop: Cached<Desktop>, why: string): Promise<void> {
    const profile = await this.profileOf(desktop);
    const now = new Date(this.deps.clock.now());
    await this.setProfileStatus(desktop, {
      state: "Failed",
      conditions: synced(profile, "False", "SyncFailed", `desktop ${desktop.metadata.name}: ${why}`, now),
    });
    this.deps.events.event(desktop, "Warning", "ProfileSyncFailed", why);
  }

  /** The desktop's DesktopProfile as the API server has it now (its status is merged into). */
  private profileOf(desktop: Cached<Desktop>): Promise<DesktopProfile | undefined> {
    return this.deps.profiles.tryGet({
      namespace: desktop.metadata.namespace,
      name: assignment(desktop).name,
    });
  }

  private async setProfileStatus(
    desktop: Cached<Desktop>,
    status: Partial<DesktopProfile["status"]>,
  ): Promise<void> {
    const binding = assignment(desktop);
    await this.deps.profiles.mergePatch(
      { namespace: desktop.metadata.namespace, name: binding.name },
      { status },
      { subresource: "status" },
    );
  }

  /** Runs `fn` on a fresh connection to the desktop's profile store. */
  private withStore<T>(desktop: Cached<Desktop>, fn: (store: SftpStore) => Promise<T>): Promise<T> {
    return withStore(this.deps.secrets, desktop.metadata.namespace as string, assignment(desktop).store, fn);
  }
}

function assignment(desktop: Cached<Desktop>): ProfileAssignment {
  const binding = desktop.spec.profile;
  if (!binding) throw new Error(`desktop ${desktop.metadata.name} has no profile`);
  return binding;
}

/** The profile's directory on the store. */
function storeDir(desktop: Cached<Desktop>): string {
  return profileStoreDir(desktop.metadata.namespace as string, assignment(desktop).name);
}

/** The host's cache of the profile's versions. */
function localDir(diskDir: string, desktop: Cached<Desktop>): string {
  return path.join(diskDir, desktop.metadata.namespace as string, assignment(desktop).name);
}

function sizeOf(profile: DesktopProfile | undefined): number {
  try {
    return profile?.status?.size ? Math.round(parseBytes(profile.status.size)) : 0;
  } catch {
    return 0; // written by hand: counted afresh
  }
}

function synced(
  profile: DesktopProfile | undefined,
  status: "True" | "False",
  reason: string,
  msg: string,
  now: Date,
): Condition[] {
  const gen = profile?.metadata.generation;
  return [
    ...setCondition(profile?.status?.conditions, { type: "Synced", status, reason, message: msg }, gen, now),
  ];
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
