// HostNode reconciler (controller side): readiness from the heartbeat Lease, allocation
// accounting, cordon and drain. When a heartbeat expires it fails the host's desktops so that
// their sessions end with a reason and pools refill elsewhere. A drain (spec.drain) is admitted
// against the pools' maintenance budgets, then carried out by the pure plan in ../drain: idle
// desktops deleted, users notified and reminded, and — at the deadline — the session reconciler
// ends the remaining sessions (their notice carries the deadline); Drained once no desktop is
// left. One status write per pass; requeued for the next reminder, deadline or heartbeat expiry.
import { isDeepStrictEqual } from "node:util";
import { DesktopReasons, Finalizers, HostNodeReasons, setCondition } from "../../api/index.js";
import type { Desktop, DesktopSession, DrainStatus, HostNode } from "../../api/types.generated.js";
import type { Cached, ReconcileContext, Reconciler, Request, Result } from "../../runtime/index.js";
import { done, keyOf, NotFoundError, requeueAfter } from "../../runtime/index.js";
import type { ControllerContext } from "../context.js";
import { DrainActions } from "../drain/actions.js";
import { DrainAdmission } from "../drain/admission.js";
import { planDrain, type DrainPlan, type SessionOnHost } from "../drain/plan.js";
import { drainTransition } from "../drain/transitions.js";
import { mapLimit } from "../shared/concurrency.js";
import { removeFinalizer } from "../shared/finalizers.js";
import { isStale } from "../shared/stale.js";
import { Index } from "../shared/indexes.js";
import { hostLeaseName } from "../shared/resources.js";
import { patchStatusIfChanged } from "../shared/status.js";
import { hostAllocation } from "./allocation.js";
import { hostConditions } from "./conditions.js";
import { hostReadiness } from "./health.js";

/** A removed host's desktops are looked at again this often until the cache shows them gone. */
const HOST_REMOVED_RECHECK_MS = 2_000;

/** A drain waiting for a budget looks again this often even if no event says the budget freed. */
const BUDGET_RECHECK_MS = 30_000;

export class HostReconciler implements Reconciler {
  private readonly admission: DrainAdmission;
  private readonly actions: DrainActions;

  constructor(private readonly ctx: ControllerContext) {
    this.admission = new DrainAdmission(ctx.clock);
    this.actions = new DrainActions({
      desktops: ctx.clients.desktops,
      sessions: ctx.clients.sessions,
      events: ctx.events,
      log: ctx.log,
    });
  }

  async reconcile(req: Request, rc: ReconcileContext): Promise<Result> {
    const { informers, settings, clock } = this.ctx;
    const host = informers.hosts.get(req.name);
    if (!host) return this.removed(req.name, rc);
    const now = clock.now();
    const renewal = this.ctx.renewals.get(hostLeaseName(req.name));
    const ready = hostReadiness(renewal, now, settings.hostGracePeriodMs);
    const desktops = informers.desktops.byIndex(Index.Host, req.name);

    const wasReady = host.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
    if (ready.status !== "True") {
      if (wasReady) this.ctx.events.event(host, "Warning", "HostNotReady", ready.message);
      // Only a heartbeat that stopped proves the VMs lost. No Lease at all (AwaitingAgent) is
      // more likely a Lease in another namespace than a dead host: desktops are left alone.
      if (ready.reason === HostNodeReasons.HeartbeatExpired)
        await this.failDesktops(host, desktops, ready.message, rc);
    } else if (!wasReady) this.ctx.events.event(host, "Normal", "HostReady", ready.message);

    // The drain's start and deadline are recorded before any session is told about them.
    const plan = this.planDrain(host, desktops, now);
    const drain = drainPatch(host.status?.drain, plan.status);
    try {
      await patchStatusIfChanged(this.ctx.clients.hosts, host, {
        observedGeneration: host.metadata.generation,
        conditions: hostConditions(host, ready, plan, new Date(now)),
        ...hostAllocation(host, desktops),
        ...(drain !== undefined ? { drain: drain as DrainStatus | null } : {}),
      });
    } catch (err) {
      if (!host.status?.drain?.startedAt) this.admission.forget(req.name); // not recorded: not counted
      throw err;
    }
    if (!host.spec.drain) this.admission.forget(req.name);
    const event = drainTransition(host.status?.drain, plan.status, host.spec.drain, plan.draining.message);
    if (event) this.ctx.events.event(host, event.type, event.reason, event.message);
    await this.actions.notify(plan.notify);
    await this.actions.withdraw(plan.withdraw);
    await this.actions.deleteIdle(req.name, plan.deleteIdle);
    if (plan.notify.length > 0)
      rc.log.info({ host: req.name, notices: plan.notify.length }, "drain: notified sessions");
    return this.next(now, ready.recheckInMs, plan);
  }

  /**
   * The HostNode is gone: its desktops go too. No agent serves a deleted host, so none would
   * ever remove their cleanup finalizer; it is removed here (as the pod garbage collector
   * force-deletes the pods of a deleted Node). Their sessions end with HostRemoved. A VM still
   * running on that machine is its admin's to stop: nothing here can reach it.
   */
  private async removed(name: string, rc: ReconcileContext): Promise<Result> {
    const left = this.ctx.informers.desktops.byIndex(Index.Host, name);
    if (left.length === 0) return done();
    rc.log.info({ host: name, desktops: left.length }, "host removed: deleting its desktops");
    await mapLimit(left, 16, async (d) => {
      try {
        // The finalizer first (checked against the cached copy), so the delete ends it in one pass.
        await removeFinalizer(this.ctx.clients.desktops, d, Finalizers.DesktopCleanup);
        if (!d.metadata.deletionTimestamp)
          await this.ctx.clients.desktops.delete(d.metadata, { preconditions: { uid: d.metadata.uid } });
      } catch (err) {
        if (!(err instanceof NotFoundError) && !isStale(err)) throw err;
      }
    });
    return requeueAfter(HOST_REMOVED_RECHECK_MS); // until the cache shows them gone
  }

  private planDrain(host: Cached<HostNode>, desktops: readonly Cached<Desktop>[], now: number): DrainPlan {
    const { informers } = this.ctx;
    const onHost: SessionOnHost[] = desktops.map((desktop) => ({
      desktop,
      session: this.sessionOf(desktop),
    }));
    if (!host.spec.drain) return planDrain({ host, desktops: onHost, now });
    const admission = this.admission.admit(host, informers.hosts.list(), informers.pools.list());
    return admission.admitted
      ? planDrain({ host, desktops: onHost, startedAt: admission.startedAt, now })
      : planDrain({
          host,
          desktops: onHost,
          waiting: admission.verdict.ok ? undefined : admission.verdict.message,
          now,
        });
  }

  private sessionOf(desktop: Cached<Desktop>): Cached<DesktopSession> | undefined {
    const ref = desktop.spec.sessionRef;
    if (!ref) return undefined;
    const s = this.ctx.informers.sessions.get(
      keyOf({ namespace: desktop.metadata.namespace, name: ref.name }),
    );
    return s?.metadata.uid === ref.uid ? s : undefined;
  }

  private next(now: number, readinessRecheck: number | undefined, plan: DrainPlan): Result {
    const waits = [readinessRecheck];
    if (plan.nextAt !== undefined) waits.push(Math.max(1, plan.nextAt - now));
    if (plan.status?.phase === "Pending") waits.push(BUDGET_RECHECK_MS);
    const soonest = Math.min(...waits.filter((w): w is number => w !== undefined));
    return Number.isFinite(soonest) ? requeueAfter(soonest) : done();
  }

  /** The VMs of a host whose agent is gone cannot be trusted: fail their desktops (not yet failed). */
  private async failDesktops(
    host: Cached<HostNode>,
    desktops: readonly Cached<Desktop>[],
    why: string,
    rc: ReconcileContext,
  ): Promise<void> {
    const now = new Date(this.ctx.clock.now());
    const live = desktops.filter((d) => !d.metadata.deletionTimestamp && d.status?.phase !== "Failed");
    if (live.length === 0) return;
    rc.log.warn({ host: host.metadata.name, desktops: live.length }, "host not ready: failing its desktops");
    await mapLimit(live, 16, async (d) => {
      const conditions = setCondition(
        d.status?.conditions,
        {
          type: "Ready",
          status: "Unknown",
          reason: DesktopReasons.HostNotReady,
          message: `host ${host.metadata.name}: ${why}`,
        },
        d.metadata.generation,
        now,
      );
      await patchStatusIfChanged(this.ctx.clients.desktops, d, {
        phase: "Failed",
        message: `host ${host.metadata.name} is not ready: ${why}`,
        conditions,
      });
    });
  }
}

/**
 * status.drain as a merge patch: the whole object, with fields it no longer has set to null (a
 * merge patch would otherwise keep them), null to remove it, undefined when unchanged.
 */
function drainPatch(
  current: Readonly<DrainStatus> | undefined,
  wanted: DrainStatus | undefined,
): Record<string, unknown> | null | undefined {
  if (
    isDeepStrictEqual(JSON.parse(JSON.stringify(current ?? null)), JSON.parse(JSON.stringify(wanted ?? null)))
  )
    return undefined;
  if (wanted === undefined) return null;
  return { startedAt: null, deadline: null, sessionsLeft: null, phase: null, ...wanted };
}
