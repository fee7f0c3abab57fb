// DesktopSession reconciler: on a ProfileManaged pool a logon first takes the user's profile
// write lock (profile-phase.ts), then binds one Available desktop of its pool with a
// resourceVersion-checked write (two users can never get one desktop), publishes the endpoint
// once the desktop runs, ends the session on a timeout or a lost desktop, and on deletion (the
// logoff) deletes the desktop and releases the lock before letting the session go.
import { createHash } from "node:crypto";
import {
  DesktopSessionConditions as C,
  DesktopSessionReasons as R,
  Finalizers,
  Labels,
  setCondition,
  toKubeTime,
} from "../../api/index.js";
import type {
  Condition,
  Desktop,
  DesktopPool,
  DesktopSession,
  DesktopSessionStatus,
  SessionEndReason,
  ProfileAssignment,
  SessionProfile,
} from "../../api/types.generated.js";
import type { Cached, ReconcileContext, Reconciler, Request, Result } from "../../runtime/index.js";
import { done, keyOf, NotFoundError, requeueAfter } from "../../runtime/index.js";
import type { ControllerContext } from "../context.js";
import { addFinalizer, hasFinalizer, removeFinalizer } from "../shared/finalizers.js";
import { Index, poolKey } from "../shared/indexes.js";
import { patchStatusIfChanged, type StatusPatch } from "../shared/status.js";
import { Superseded } from "../shared/superseded.js";
import { imageHash } from "../pool/plan.js";
import { drainStarted } from "../drain/budget.js";
import { drainVerdict, earliest } from "../drain/session.js";
import { isStale } from "../shared/stale.js";
import { vouchedFor } from "../shared/hostview.js";
import { describeEndpoint } from "../../hypervisors/adapter.js";
import { logoffLock } from "./profile-lock.js";
import { acquireProfile, releaseProfile } from "./profile-phase.js";
import { checkTimeouts } from "./timeouts.js";

const WAIT_RECHECK_MS = 5_000;
const BIND_ATTEMPTS = 3;

export class SessionReconciler implements Reconciler {
  /** Desktops this process is binding right now, so concurrent workers pick different ones. */
  private readonly claimed = new Set<string>();
  /**
   * Desktops this process bound (or found changed), by key, with the resourceVersion of the
   * cached copy it tried: while the cache still shows that version it is behind, and the
   * desktop is not free whatever it says. In a storm the cache lags the binds by a moment;
   * without this, workers kept trying desktops bound a moment ago, each a refused write.
   */
  private readonly spent = new Superseded();
  /** Sessions this process wrote: a pass on a cache that has not seen the write is skipped. */
  private readonly superseded = new Superseded();
  /**
   * readyAt this process wrote, by session uid: a reconcile on a cache that has not yet seen
   * that write must neither move readyAt nor announce the session twice.
   */
  private readonly published = new Map<string, string>();

  constructor(private readonly ctx: ControllerContext) {}

  // Opening sequence, as in the agent's DesktopReconciler: fetch from the cache, skip a copy our
  // own write replaced, log off if deleting, ensure the finalizer. Then the phases, in order:
  // wrap up an ended session; find the pool; take the profile's write lock (before a desktop,
  // so a refused logon takes none); bind a desktop; end the session on a limit (timeouts,
  // drains); publish the endpoint. Each phase either finishes the pass or hands on what it found.
  async reconcile(req: Request, rc: ReconcileContext): Promise<Result> {
    const key = keyOf(req);
    const cached = this.ctx.informers.sessions.get(key);
    if (!cached) {
      this.superseded.forget(key);
      return done();
    }
    if (this.superseded.isBehind(cached)) return done();
    if (cached.metadata.deletionTimestamp) return this.logoff(cached, rc);
    const session = await this.ensureFinalizer(cached);
    if (!session) return done(); // the cache is behind; the newer version's event brings us back
    const phase = session.status?.phase;
    if (phase === "Ended" || phase === "Failed")
      return (await this.wrapUp(session, rc)) ? done() : requeueAfter(WAIT_RECHECK_MS);

    let desktop = await this.boundDesktop(session);
    if (!desktop && session.status?.desktopRef) return this.desktopLost(session, undefined);
    const pool = this.ctx.informers.pools.get(
      keyOf({ namespace: req.namespace, name: session.spec.poolRef }),
    );
    if (!desktop && !pool) return this.pending(session, R.PoolNotFound, noPool(session), 30_000);

    const outcome = pool ? await acquireProfile(this.ctx, session, pool) : undefined;
    if (outcome?.end) return this.end(session, outcome.end.reason, outcome.end.message);
    if (outcome?.wait !== undefined) return this.pending(session, R.ProfileBusy, outcome.wait);
    const profile =
      (outcome && "profile" in outcome ? outcome.profile : undefined) ?? session.status?.profile;

    let boundAt: string | undefined;
    if (!desktop && pool) {
      desktop = await this.bind(session, pool, rc, profile);
      if (!desktop) {
        const exhausted = this.poolExhausted(pool);
        const message = exhausted
          ? `every desktop of pool ${pool.metadata.name} is in use (max ${pool.spec.max})`
          : `waiting for a desktop of pool ${pool.metadata.name}`;
        const reason = exhausted ? R.PoolExhausted : R.WaitingForDesktop;
        return this.pending(session, reason, message, WAIT_RECHECK_MS, profile);
      }
      boundAt = toKubeTime(new Date(this.ctx.clock.now()));
    }
    if (!desktop) return done(); // unreachable: no desktop means a pool (checked above)
    if (desktop.metadata.deletionTimestamp || desktop.status?.phase === "Failed")
      return this.desktopLost(session, desktop);

    const now = this.ctx.clock.now();
    const host = desktop.spec.hostRef ? this.ctx.informers.hosts.get(desktop.spec.hostRef) : undefined;
    const verdict = earliest(checkTimeouts(session, pool, now), drainVerdict(session, host, now));
    if (verdict.end) return this.end(session, verdict.end.reason, verdict.end.message);

    await this.publish(session, desktop, boundAt, profile);
    return verdict.nextCheckMs !== undefined ? requeueAfter(verdict.nextCheckMs) : done();
  }

  /**
   * The bound desktop failed, is being deleted or is gone (undefined): the session ends,
   * HostRemoved when its host's HostNode no longer exists, else DesktopFailed.
   */
  private desktopLost(
    session: Cached<DesktopSession>,
    desktop: Cached<Desktop> | undefined,
  ): Promise<Result> {
    const host = desktop?.spec.hostRef ?? session.status?.hostRef;
    if (host && !this.ctx.informers.hosts.get(host))
      return this.end(session, "HostRemoved", `host ${host} was removed (its HostNode was deleted)`);
    const why = desktop ? desktopFailure(desktop) : `desktop ${session.status?.desktopRef} disappeared`;
    return this.end(session, "DesktopFailed", why);
  }

  /** Pending: not bound yet, and why (the same reason for Bound and Ready). */
  private async pending(
    session: Cached<DesktopSession>,
    reason: string,
    message: string,
    recheckMs = WAIT_RECHECK_MS,
    profile?: SessionProfile,
  ): Promise<Result> {
    await this.setStatus(session, { phase: "Pending", ...(profile ? { profile } : {}) }, [
      [C.Bound, false, reason, message],
      [C.Ready, false, reason, message],
    ]);
    return requeueAfter(recheckMs);
  }

  /** The session with the cleanup finalizer, or undefined when the cache was behind. */
  private async ensureFinalizer(
    session: Cached<DesktopSession>,
  ): Promise<Cached<DesktopSession> | undefined> {
    if (hasFinalizer(session, Finalizers.SessionCleanup)) return session;
    try {
      // Go on with what the write returns rather than wait for its watch event: a logon
      // waits for this reconcile, and the object returned is the newest there is.
      const written = await addFinalizer(this.ctx.clients.sessions, session, Finalizers.SessionCleanup);
      this.superseded.wrote(session);
      return written as Cached<DesktopSession>;
    } catch (err) {
      if (isStale(err)) return undefined;
      throw err;
    }
  }

  /** The desktop bound to this session: from the cache, or (just after binding, before the cache catches up) live. */
  private async boundDesktop(session: Cached<DesktopSession>): Promise<Cached<Desktop> | undefined> {
    const cached = this.ctx.informers.desktops.byIndex(Index.SessionUID, session.metadata.uid ?? "")[0];
    if (cached) return cached;
    const ref = session.status?.desktopRef;
    if (!ref) return undefined;
    const live = await this.ctx.clients.desktops.tryGet({ namespace: session.metadata.namespace, name: ref });
    return live?.spec.sessionRef?.uid === session.metadata.uid ? (live as Cached<Desktop>) : undefined;
  }

  private async bind(
    session: Cached<DesktopSession>,
    pool: Cached<DesktopPool>,
    rc: ReconcileContext,
    profile: SessionProfile | undefined,
  ): Promise<Cached<Desktop> | undefined> {
    const candidates = this.candidates(session, pool);
    const assignment = profileAssignment(pool, profile);
    for (const desktop of candidates.slice(0, BIND_ATTEMPTS)) {
      const dk = keyOf(desktop.metadata);
      this.claimed.add(dk);
      try {
        const bound = await this.ctx.clients.desktops.jsonPatch(desktop.metadata, [
          { op: "test", path: "/metadata/resourceVersion", value: desktop.metadata.resourceVersion },
          {
            op: "add",
            path: "/spec/sessionRef",
            value: { name: session.metadata.name, uid: session.metadata.uid },
          },
          {
            op: "add",
            path: `/metadata/labels/${Labels.Session.replace("/", "~1")}`,
            value: session.metadata.name,
          },
          // The profile the agent attaches, in the same checked write as the binding.
          ...(assignment ? [{ op: "add" as const, path: "/spec/profile", value: assignment }] : []),
        ]);
        rc.log.info({ desktop: desktop.metadata.name, host: desktop.spec.hostRef }, "bound desktop");
        // The session's status (Bound, or Ready at once if the desktop runs) and its Event are
        // written by publish(), one of each.
        this.spent.wrote(desktop);
        return bound as Cached<Desktop>;
      } catch (err) {
        if (!isStale(err) && !(err instanceof NotFoundError)) throw err;
        // Someone else bound or deleted it first: try the next one.
        this.spent.wrote(desktop);
      } finally {
        this.claimed.delete(dk);
      }
    }
    return undefined;
  }

  /** Unbound, healthy desktops of the pool: Available first; spread over workers by session uid. */
  private candidates(session: Cached<DesktopSession>, pool: Cached<DesktopPool>): Cached<Desktop>[] {
    const hash = imageHash(pool);
    const { desktops, hosts } = this.ctx.informers;
    const serving = (d: Cached<Desktop>): boolean => {
      const host = hosts.get(d.spec.hostRef ?? "");
      return vouchedFor(host) && !drainStarted(host);
    };
    const free = desktops
      .byIndex(Index.Pool, poolKey(pool.metadata.namespace, pool.metadata.name))
      .filter(
        (d) =>
          !d.spec.sessionRef &&
          !d.metadata.deletionTimestamp &&
          d.status?.phase !== "Failed" &&
          serving(d) &&
          (d.spec.imageHash === undefined || d.spec.imageHash === hash) &&
          !this.claimed.has(keyOf(d.metadata)) &&
          !this.spent.isBehind(d),
      );
    const available = free.filter((d) => d.status?.phase === "Available");
    const group = available.length > 0 ? available : free;
    const offset = group.length > 0 ? spread(session.metadata.uid ?? session.metadata.name, group.length) : 0;
    return [...group.slice(offset), ...group.slice(0, offset)];
  }

  private poolExhausted(pool: Cached<DesktopPool>): boolean {
    const all = this.ctx.informers.desktops.byIndex(
      Index.Pool,
      poolKey(pool.metadata.namespace, pool.metadata.name),
    );
    return all.filter((d) => !d.metadata.deletionTimestamp && d.spec.sessionRef).length >= pool.spec.max;
  }

  /**
   * Bound → Ready once the desktop runs and has an endpoint. `boundAt` is set when this pass
   * bound the desktop: a warm desktop then makes the session Ready in a single status write, and
   * a single Event (SessionReady names the desktop and host; Bound only when it has to wait).
   */
  private async publish(
    session: Cached<DesktopSession>,
    desktop: Cached<Desktop>,
    boundAt: string | undefined,
    profile: SessionProfile | undefined,
  ): Promise<void> {
    const endpoint = desktop.status?.endpoint;
    const running = (desktop.status?.phase === "Available" || desktop.status?.phase === "InUse") && endpoint;
    const base = {
      desktopRef: desktop.metadata.name,
      hostRef: desktop.spec.hostRef,
      ...(boundAt ? { boundAt } : {}),
      ...(profile ? { profile } : {}),
    };
    const where = `desktop ${desktop.metadata.name} on host ${desktop.spec.hostRef}`;
    const waiting = running
      ? profileWait(desktop, profile)
      : ([
          [
            C.Ready,
            false,
            R.DesktopProvisioning,
            `desktop ${desktop.metadata.name} is ${desktop.status?.phase ?? "Pending"}`,
          ],
        ] satisfies ConditionRow[]);
    if (!running || waiting.length > 0) {
      const written = await this.setStatus(session, { ...base, phase: "Bound" }, [
        [C.Bound, true, R.DesktopBound, where],
        ...waiting,
      ]);
      if (boundAt && written) this.ctx.events.event(session, "Normal", "Bound", `bound ${where}`);
      return;
    }
    const uid = session.metadata.uid ?? "";
    if (session.status?.readyAt) this.published.delete(uid); // the cache has caught up
    const knownReadyAt = session.status?.readyAt ?? this.published.get(uid);
    const firstTime = !knownReadyAt;
    const readyAt = knownReadyAt ?? toKubeTime(new Date(this.ctx.clock.now()));
    if (firstTime) this.rememberPublished(uid, readyAt);
    const address = describeEndpoint(endpoint);
    const written = await this.setStatus(
      session,
      { ...base, phase: "Ready", endpoint: { ...endpoint }, readyAt },
      [
        [C.Bound, true, R.DesktopBound, where],
        ...(profile && desktop.spec.profile
          ? [
              [
                C.ProfileSynced,
                true,
                R.ProfileAttached,
                `profile ${profile.name} (${profile.mode}) attached`,
              ] as ConditionRow,
            ]
          : []),
        [C.Ready, true, R.SessionReady, `connect to ${address}`],
      ],
    );
    if (firstTime && written) {
      this.ctx.events.event(session, "Normal", "SessionReady", `${where} ready at ${address}`);
      const created = Date.parse(session.metadata.creationTimestamp ?? "");
      if (!Number.isNaN(created))
        this.ctx.metrics.logonDuration.observe(
          { pool: session.spec.poolRef },
          (this.ctx.clock.now() - created) / 1000,
        );
    }
  }

  private rememberPublished(uid: string, readyAt: string): void {
    if (this.published.size >= 100_000) this.published.clear(); // a bound on memory; only a cache-lag guard
    this.published.set(uid, readyAt);
  }

  private async end(
    session: Cached<DesktopSession>,
    reason: SessionEndReason,
    message: string,
  ): Promise<Result> {
    await this.setStatus(
      session,
      {
        phase: "Ended",
        endReason: reason,
        endedAt: toKubeTime(new Date(this.ctx.clock.now())),
        endpoint: null,
      },
      [[C.Ready, false, R.Ended, `${reason}: ${message}`]],
    );
    this.ctx.events.event(
      session,
      reason === "DesktopFailed" || reason === "HostRemoved" || reason === "ProfileInUse"
        ? "Warning"
        : "Normal",
      reason,
      `session ended: ${message}`,
    );
    // The desktop goes in the next pass (the Ended branch above; this write's event brings it),
    // so a burst of ends — a drain's deadline — records every session's end first.
    return done();
  }

  private async logoff(session: Cached<DesktopSession>, rc: ReconcileContext): Promise<Result> {
    if (!hasFinalizer(session, Finalizers.SessionCleanup)) return done();
    if (!(await this.wrapUp(session, rc))) return requeueAfter(WAIT_RECHECK_MS);
    try {
      if (await removeFinalizer(this.ctx.clients.sessions, session, Finalizers.SessionCleanup))
        this.superseded.wrote(session);
    } catch (err) {
      // Gone already, or changed: a pass on a cache that had not yet seen an earlier pass's
      // write. Nothing is left to do, or the newer version's event brings us back.
      if (!(err instanceof NotFoundError) && !isStale(err)) throw err;
    }
    return done();
  }

  /**
   * The one logoff path, whatever ended the session (the user, a timeout, a drain's deadline,
   * a refused profile): the desktop is deleted, and a profile write lock this session holds is
   * released once the desktop is gone (its agent syncs the profile back before it lets the
   * desktop go, with issue 21's data path), or lost once the desktop's host stopped heartbeating
   * (so a logoff on a dead host ends). Resolves whether everything is wrapped up; the
   * desktop's deletion event brings the next pass when it is not.
   */
  private async wrapUp(session: Cached<DesktopSession>, rc: ReconcileContext): Promise<boolean> {
    const desktop = await this.boundDesktop(session);
    if (desktop && !desktop.metadata.deletionTimestamp) {
      await this.deleteDesktop(desktop);
      rc.log.info({ desktop: desktop.metadata.name }, "deleted the session's desktop");
    }
    if (session.status?.profile?.mode !== "ReadWrite") return true;
    const host = desktop?.spec.hostRef ? this.ctx.informers.hosts.get(desktop.spec.hostRef) : undefined;
    const lock = logoffLock(desktop, host);
    if (lock.kind === "wait") {
      // Saving the profile failed: say so on the session while the agent retries.
      const disk = desktop?.status?.profile;
      if ((disk?.phase === "Failed" || disk?.phase === "Syncing") && disk.attempts && disk.message)
        await this.setStatus(session, {}, [[C.ProfileSynced, false, R.ProfileSyncFailed, disk.message]]);
      return false;
    }
    await releaseProfile(this.ctx, session, lock.kind === "lose" ? lock.message : undefined);
    return true;
  }

  private async deleteDesktop(desktop: Cached<Desktop>): Promise<void> {
    await this.ctx.clients.desktops.delete(desktop.metadata, {
      preconditions: { uid: desktop.metadata.uid },
    });
  }

  private async setStatus(
    session: Cached<DesktopSession>,
    fields: StatusPatch<DesktopSessionStatus>,
    conditions: ConditionRow[],
  ): Promise<unknown> {
    const now = new Date(this.ctx.clock.now());
    const gen = session.metadata.generation;
    let list = session.status?.conditions as Condition[] | undefined;
    for (const [type, ok, reason, message] of conditions)
      list = setCondition(list, { type, status: ok ? "True" : "False", reason, message }, gen, now);
    const written = await patchStatusIfChanged(this.ctx.clients.sessions, session, {
      ...fields,
      conditions: list,
      observedGeneration: gen,
    });
    if (written) this.superseded.wrote(session);
    return written;
  }
}

/**
 * The conditions of a session whose desktop runs but does not have the user's profile on it yet
 * (the user gets the desktop once it has), or [] when there is nothing to wait for.
 */
function profileWait(desktop: Cached<Desktop>, profile: SessionProfile | undefined): ConditionRow[] {
  const disk = desktop.status?.profile;
  if (!profile || !desktop.spec.profile || disk?.phase === "Attached") return [];
  const failed = disk?.phase === "Failed";
  const reason = failed ? R.ProfileAttachFailed : R.ProfileAttaching;
  const message = failed
    ? (disk?.message ?? "attaching the profile failed")
    : `attaching profile ${profile.name} (${profile.mode}) to desktop ${desktop.metadata.name}`;
  return [
    [C.ProfileSynced, false, reason, message],
    [C.Ready, false, reason, message],
  ];
}

/** What the agent needs to attach the user's profile to the desktop, from the pool's policy. */
function profileAssignment(
  pool: Cached<DesktopPool>,
  profile: SessionProfile | undefined,
): ProfileAssignment | undefined {
  const policy = pool.spec.profile;
  if (!profile || !policy) return undefined;
  return {
    name: profile.name,
    mode: profile.mode,
    ...(profile.epoch !== undefined ? { epoch: profile.epoch } : {}),
    store: {
      address: policy.store.address,
      path: policy.store.path,
      secretRef: { name: policy.store.secretRef.name },
    },
    quota: policy.quota,
    ...(policy.compactAfter !== undefined ? { compactAfter: policy.compactAfter } : {}),
    ...(policy.retention !== undefined ? { retention: policy.retention } : {}),
    ...(policy.writeBackInterval !== undefined && profile.mode === "ReadWrite"
      ? { writeBackInterval: policy.writeBackInterval }
      : {}),
  };
}

type ConditionRow = [type: string, ok: boolean, reason: string, message: string];

function noPool(session: Cached<DesktopSession>): string {
  return `DesktopPool "${session.spec.poolRef}" does not exist in namespace ${session.metadata.namespace}`;
}

function desktopFailure(desktop: Cached<Desktop>): string {
  if (desktop.metadata.deletionTimestamp) return `desktop ${desktop.metadata.name} is being deleted`;
  const ready = desktop.status?.conditions?.find((c) => c.type === "Ready");
  return `desktop ${desktop.metadata.name} on host ${desktop.spec.hostRef} failed: ${ready?.message || desktop.status?.message || "unknown reason"}`;
}

function spread(seed: string, n: number): number {
  return createHash("md5").update(seed).digest().readUInt32BE(0) % n;
}
