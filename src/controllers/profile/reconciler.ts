// DesktopProfile reconciler: what an admin asks of a user's profile. Deleting the profile erases
// the user's data from the store (for people who leave) once no session holds its lock;
// spec.restore makes an earlier version head again, under a new fencing epoch, keeping the later
// versions on the store. Opening sequence as in the agent's DesktopReconciler: fetch from the
// cache, skip a copy our own write replaced, ensure the finalizer; the decision (plan.ts) is
// then taken on the newest copy, read live, because a lock may have been taken a moment ago.
import { Finalizers } from "../../api/index.js";
import type { DesktopProfile } from "../../api/types.generated.js";
import { ProfileFence } from "../../profiles/fence.js";
import type { SftpStore } from "../../profiles/sftp-store.js";
import { chainOnStore } from "../../profiles/versions.js";
import { profileStoreDir, withStore } from "../../profiles/store-config.js";
import type { Cached, ReconcileContext, Reconciler, Request, Result } from "../../runtime/index.js";
import { done, keyOf, NotFoundError, requeueAfter } from "../../runtime/index.js";
import type { ControllerContext } from "../context.js";
import { addFinalizer, hasFinalizer, removeFinalizer } from "../shared/finalizers.js";
import { isStale } from "../shared/stale.js";
import { Superseded } from "../shared/superseded.js";
import { profilePlan, restoredChain } from "./plan.js";

const FINALIZER = Finalizers.ProfileErase;
/** An erase waiting for a logoff looks again this often (the lock's release also brings a pass). */
const ERASE_WAIT_MS = 10_000;

export class ProfileReconciler implements Reconciler {
  /** Profiles this process wrote: a pass on a cache that has not seen the write is skipped. */
  private readonly superseded = new Superseded();

  constructor(private readonly ctx: ControllerContext) {}

  async reconcile(req: Request, rc: ReconcileContext): Promise<Result> {
    const key = keyOf(req);
    const cached = this.ctx.informers.profiles.get(key);
    if (!cached) {
      this.superseded.forget(key);
      return done();
    }
    if (this.superseded.isBehind(cached)) return done();
    if (!cached.metadata.deletionTimestamp && !hasFinalizer(cached, FINALIZER)) {
      try {
        await addFinalizer(this.ctx.clients.profiles, cached, FINALIZER);
        this.superseded.wrote(cached);
      } catch (err) {
        if (!isStale(err)) throw err;
      }
      return done(); // the write's event brings the next pass
    }
    const profile = await this.ctx.clients.profiles.tryGet({ namespace: req.namespace, name: req.name });
    if (!profile) return done();
    const plan = profilePlan(profile);
    switch (plan.kind) {
      case "none":
        return done();
      case "eraseWaits":
        this.ctx.events.event(
          profile,
          "Normal",
          "EraseWaiting",
          `the user's data is erased once session ${plan.holder} logs off`,
        );
        return requeueAfter(ERASE_WAIT_MS);
      case "erase":
        return this.erase(profile, rc);
      case "restore":
        return this.restore(profile, plan.version, plan.epoch, rc);
    }
  }

  private async erase(profile: DesktopProfile, rc: ReconcileContext): Promise<Result> {
    if (!hasFinalizer(profile as Cached<DesktopProfile>, FINALIZER)) return done();
    const namespace = profile.metadata.namespace as string;
    const dir = profileStoreDir(namespace, profile.metadata.name);
    await this.onStore(profile, "ProfileEraseFailed", (store) => store.removeTree(dir));
    rc.log.info({ profile: profile.metadata.name }, "erased the profile's data from the store");
    this.ctx.events.event(
      profile,
      "Normal",
      "Erased",
      `${profile.spec.user}'s data erased from ${profile.spec.store.address}`,
    );
    try {
      await removeFinalizer(this.ctx.clients.profiles, profile as Cached<DesktopProfile>, FINALIZER);
    } catch (err) {
      if (!(err instanceof NotFoundError) && !isStale(err)) throw err;
    }
    return done();
  }

  private async restore(
    profile: DesktopProfile,
    version: string,
    epoch: number,
    rc: ReconcileContext,
  ): Promise<Result> {
    const namespace = profile.metadata.namespace as string;
    // The new epoch first, in the API (checked: a session taking the lock meanwhile wins or
    // loses cleanly), then on the store, so that no older writer can publish after the restore.
    const bumped = await this.ctx.clients.profiles.jsonPatch(profile.metadata, [
      { op: "test", path: "/metadata/resourceVersion", value: profile.metadata.resourceVersion },
      { op: "replace", path: "/spec/epoch", value: epoch },
    ]);
    const outcome = await this.onStore(profile, "RestoreFailed", async (store) => {
      const dir = profileStoreDir(namespace, profile.metadata.name);
      const fence = new ProfileFence(store, dir);
      const head = await fence.claim(epoch);
      // A version in the head's chain, or any other the store keeps whole (one compacted away,
      // or one a restore left behind): its own header names the chain it opens on.
      const chain = restoredChain(head, version) ?? (await chainOnStore(store, dir, version));
      if (chain) await fence.publish(epoch, { chain });
      return { head, chain };
    });
    const was = outcome.head.chain[outcome.head.chain.length - 1] ?? "nothing";
    if (outcome.chain) {
      await this.ctx.clients.profiles.mergePatch(
        bumped.metadata,
        { status: { head: version } },
        { subresource: "status" },
      );
      this.ctx.events.event(
        profile,
        "Normal",
        "Restored",
        `${version} is head again (was ${was}); the later versions stay on the store`,
      );
      rc.log.info({ profile: profile.metadata.name, version, epoch }, "restored the profile");
    } else
      this.ctx.events.event(
        profile,
        "Warning",
        "RestoreRefused",
        `${version} is not a version the store keeps whole for this profile (status.restorable lists those; head: ${was})`,
      );
    // Done: the request is cleared (a merge patch: clearing twice is no error).
    await this.ctx.clients.profiles.mergePatch(bumped.metadata, { spec: { restore: null } });
    this.superseded.wrote(profile as Cached<DesktopProfile>);
    return done();
  }

  /** Runs `fn` on the profile's store; a failure is an Event (`reason`) and is retried. */
  private async onStore<T>(
    profile: DesktopProfile,
    reason: string,
    fn: (store: SftpStore) => Promise<T>,
  ): Promise<T> {
    try {
      return await withStore(
        this.ctx.clients.secrets,
        profile.metadata.namespace as string,
        profile.spec.store,
        fn,
      );
    } catch (err) {
      this.ctx.events.event(profile, "Warning", reason, err instanceof Error ? err.message : String(err));
      throw err;
    }
  }
}
