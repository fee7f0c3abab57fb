// The session controller's profile phase: the I/O around decideLock (profile-lock.ts). At
// logon, before a desktop is bound (so a refused logon takes none), it finds or creates the
// user's DesktopProfile and takes its write lock with a resourceVersion-checked write carrying
// the next fencing epoch; at logoff, once the desktop is gone, it releases the lock. Profiles
// are read live, never from a cache: a lock is decided on the newest copy, and a race lost to
// another controller pass is a refused write, retried with the runtime's backoff.
import { API_VERSION, Kinds, Labels } from "../../api/constants.js";
import { toKubeTime } from "../../api/time.js";
import type {
  DesktopPool,
  DesktopProfile,
  ProfileLock,
  ProfileState,
  SessionProfile,
} from "../../api/types.generated.js";
import { keyOf, type Cached } from "../../runtime/index.js";
import type { DesktopSession } from "../../api/types.generated.js";
import { profileName, userLabel } from "../../profiles/naming.js";
import type { ControllerContext } from "../context.js";
import { decideLock, holdsLock } from "./profile-lock.js";

export type ProfileOutcome =
  | { readonly profile: SessionProfile; readonly end?: undefined; readonly wait?: undefined }
  | { readonly end: { readonly reason: "ProfileInUse"; readonly message: string }; readonly wait?: undefined }
  | { readonly wait: string; readonly end?: undefined };

/** The session's profile and lock, taking the lock if it is free; undefined when the pool keeps no profiles. */
export async function acquireProfile(
  ctx: ControllerContext,
  session: Cached<DesktopSession>,
  pool: Cached<DesktopPool>,
): Promise<ProfileOutcome | undefined> {
  const policy = pool.spec.profile;
  if (pool.spec.session?.persistence !== "ProfileManaged" || !policy) return undefined;
  if (session.status?.profile) return { profile: session.status.profile }; // decided in an earlier pass
  const namespace = session.metadata.namespace as string;
  const name = profileName(policy.store, session.spec.user);
  const uid = session.metadata.uid ?? "";
  const profile = await ctx.clients.profiles.tryGet({ namespace, name });
  const decision = decideLock({
    profile,
    session: { name: session.metadata.name, uid },
    policy: policy.concurrentSession,
    holderExists: profile?.spec.lock ? await sessionExists(ctx, namespace, profile.spec.lock) : false,
  });
  const lock = (epoch: number): ProfileLock => ({
    session: session.metadata.name,
    sessionUID: uid,
    pool: pool.metadata.name,
    epoch,
    since: toKubeTime(new Date(ctx.clock.now())),
  });
  let locked: DesktopProfile;
  switch (decision.kind) {
    case "held":
      return { profile: { name, mode: "ReadWrite", epoch: decision.epoch } };
    case "readOnly":
      return { profile: { name, mode: "ReadOnly" } };
    case "refuse":
      return { end: { reason: "ProfileInUse", message: decision.message } };
    case "wait":
      return { wait: decision.message };
    case "create": {
      // A concurrent create of the same profile is a 409: retried, the next pass finds it.
      locked = await ctx.clients.profiles.create({
        apiVersion: API_VERSION,
        kind: Kinds.DesktopProfile,
        metadata: { name, namespace, labels: { [Labels.User]: userLabel(session.spec.user) } },
        spec: {
          user: session.spec.user,
          store: {
            address: policy.store.address,
            path: policy.store.path,
            secretRef: { name: policy.store.secretRef.name },
          },
          epoch: decision.epoch,
          lock: lock(decision.epoch),
        },
      });
      ctx.events.event(
        locked,
        "Normal",
        "Created",
        `first logon of ${session.spec.user} (pool ${pool.metadata.name})`,
      );
      break;
    }
    case "take": {
      const current = profile as DesktopProfile;
      locked = await ctx.clients.profiles.jsonPatch(current.metadata, [
        { op: "test", path: "/metadata/resourceVersion", value: current.metadata.resourceVersion },
        { op: "replace", path: "/spec/epoch", value: decision.epoch },
        { op: "add", path: "/spec/lock", value: lock(decision.epoch) },
      ]);
      if (decision.takenFrom)
        ctx.events.event(
          locked,
          "Warning",
          "LockTakenOver",
          `session ${decision.takenFrom} no longer exists but held the lock; epoch ${decision.epoch} fences it out`,
        );
      break;
    }
  }
  await setState(ctx, locked, "InUse");
  ctx.events.event(
    locked,
    "Normal",
    "Locked",
    `write lock taken by session ${session.metadata.name} (pool ${pool.metadata.name}), epoch ${decision.epoch}`,
  );
  return { profile: { name, mode: "ReadWrite", epoch: decision.epoch } };
}

/**
 * Releases the lock `session` holds, if it holds one. Called once the session's desktop is gone
 * (its last version is published), or with `lost` (why) once its host stopped heartbeating.
 */
export async function releaseProfile(
  ctx: ControllerContext,
  session: Cached<DesktopSession>,
  lost?: string,
): Promise<void> {
  const ref = session.status?.profile;
  if (ref?.mode !== "ReadWrite") return;
  const namespace = session.metadata.namespace as string;
  const profile = await ctx.clients.profiles.tryGet({ namespace, name: ref.name });
  if (!profile || !holdsLock(profile, session.metadata.uid ?? "")) return; // released already
  const released = await ctx.clients.profiles.jsonPatch(profile.metadata, [
    { op: "test", path: "/metadata/resourceVersion", value: profile.metadata.resourceVersion },
    { op: "remove", path: "/spec/lock" },
  ]);
  await setState(ctx, released, "Idle");
  if (lost) ctx.events.event(released, "Warning", "LockLost", `session ${session.metadata.name}: ${lost}`);
  else
    ctx.events.event(
      released,
      "Normal",
      "Released",
      `write lock released by session ${session.metadata.name}`,
    );
}

async function setState(ctx: ControllerContext, profile: DesktopProfile, state: ProfileState): Promise<void> {
  await ctx.clients.profiles.mergePatch(
    profile.metadata,
    { status: { state, observedGeneration: profile.metadata.generation } },
    { subresource: "status" },
  );
}

/** Whether the session a lock names still exists: from the cache, or live when the cache has none. */
async function sessionExists(ctx: ControllerContext, namespace: string, lock: ProfileLock): Promise<boolean> {
  const cached = ctx.informers.sessions.get(keyOf({ namespace, name: lock.session }));
  if (cached?.metadata.uid === lock.sessionUID) return true;
  const live = await ctx.clients.sessions.tryGet({ namespace, name: lock.session });
  return live?.metadata.uid === lock.sessionUID;
}
