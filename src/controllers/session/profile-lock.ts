// Who may write a user's profile (pure): the decision the session controller's profile phase
// acts on. One session at a time holds a DesktopProfile's write lock, with a fencing epoch that
// only grows; a second session of the same user gets the pool's concurrentSession policy.
import { HostNodeReasons } from "../../api/index.js";
import type {
  ConcurrentSessionPolicy,
  Desktop,
  DesktopProfile,
  HostNode,
  ProfileLock,
} from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";

export interface LockRequest {
  /** The user's profile as the API server has it now (read live), or undefined if none yet. */
  readonly profile:
    (Pick<DesktopProfile, "spec"> & { metadata?: { deletionTimestamp?: string } }) | undefined;
  readonly session: { readonly name: string; readonly uid: string };
  readonly policy: ConcurrentSessionPolicy | undefined;
  /** Whether the session named by the profile's lock still exists (same uid). */
  readonly holderExists: boolean;
}

export type LockDecision =
  /** No profile yet: create it, this session holding the lock at epoch 1. */
  | { readonly kind: "create"; readonly epoch: 1 }
  /** This session holds the lock already (an earlier pass took it). */
  | { readonly kind: "held"; readonly epoch: number }
  /** Free, or its holder is gone: take it at the next epoch. */
  | { readonly kind: "take"; readonly epoch: number; readonly takenFrom?: string }
  /** Held by another live session; the pool gives this one a throwaway read-only copy. */
  | { readonly kind: "readOnly"; readonly holder: string }
  /** The profile is being restored or erased by an admin: the logon waits. */
  | { readonly kind: "wait"; readonly message: string }
  /** Held by another live session; the pool refuses this one. */
  | { readonly kind: "refuse"; readonly holder: string; readonly message: string };

export function decideLock(req: LockRequest): LockDecision {
  const { profile, session } = req;
  if (!profile) return { kind: "create", epoch: 1 };
  const lock: ProfileLock | undefined = profile.spec.lock;
  const next = (profile.spec.epoch ?? 0) + 1;
  if (lock?.sessionUID === session.uid) return { kind: "held", epoch: lock.epoch };
  if (profile.metadata?.deletionTimestamp)
    return { kind: "wait", message: `the profile of ${profile.spec.user} is being erased` };
  if (profile.spec.restore)
    return {
      kind: "wait",
      message: `the profile of ${profile.spec.user} is being restored to ${profile.spec.restore.version}`,
    };
  if (!lock) return { kind: "take", epoch: next };
  // A holder that is gone never released (its finalizer was removed by hand): the lock is
  // taken over, and the new epoch fences out anything it might still publish.
  if (!req.holderExists) return { kind: "take", epoch: next, takenFrom: lock.session };
  if (req.policy === "ReadOnly") return { kind: "readOnly", holder: lock.session };
  return {
    kind: "refuse",
    holder: lock.session,
    message:
      `the profile of ${profile.spec.user} is in use by session ${lock.session}, and the pool's ` +
      "spec.profile.concurrentSession is Refuse: log off that session first",
  };
}

/** Whether `session` holds `profile`'s lock, so its logoff releases it. */
export function holdsLock(profile: Pick<DesktopProfile, "spec"> | undefined, sessionUID: string): boolean {
  return profile?.spec.lock?.sessionUID === sessionUID;
}

export type LogoffLock =
  /** The desktop is gone, so its last version is published (or was never written): release. */
  | { readonly kind: "release" }
  /** The desktop's agent is still saving the profile: keep the lock. */
  | { readonly kind: "wait" }
  /**
   * The desktop's host stopped its heartbeats for longer than the grace period (the host
   * controller says so on its Ready condition): the lock is lost.
   * The next writer's epoch fences that host out at the store, so a save it makes when it comes
   * back is refused (a save it makes before anyone else takes the profile is still the newest).
   */
  | { readonly kind: "lose"; readonly message: string };

/**
 * What an ending ReadWrite session does with its lock, given its desktop (undefined: gone) and
 * the desktop's host as the host controller reports it.
 */
export function logoffLock(
  desktop: Pick<Cached<Desktop>, "spec"> | undefined,
  host: Pick<Cached<HostNode>, "status"> | undefined,
): LogoffLock {
  if (!desktop) return { kind: "release" };
  const ready = host?.status?.conditions?.find((c) => c.type === "Ready");
  if (ready && ready.status !== "True" && ready.reason === HostNodeReasons.HeartbeatExpired)
    return {
      kind: "lose",
      message:
        `the write lock is lost: ${ready.message}. What the session wrote since its logon stays on ` +
        `host ${desktop.spec.hostRef ?? "?"}; once another session takes the profile, a save from that host is refused`,
    };
  return { kind: "wait" };
}
