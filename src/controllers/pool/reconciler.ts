// DesktopPool reconciler (controller side): keeps the warm buffer, places new desktops with
// the scheduler, replaces failed and outdated ones, scales in from the most loaded hosts, and
// reports counts and conditions. Level-triggered: every pass recomputes from the cache.
import { randomBytes } from "node:crypto";
import {
  API_VERSION,
  DesktopPoolConditions as C,
  DesktopPoolReasons as R,
  Finalizers,
  Kinds,
  Labels,
  setCondition,
} from "../../api/index.js";
import type {
  Condition,
  Desktop,
  DesktopPool,
  DesktopPoolStatus,
  HostNode,
} from "../../api/types.generated.js";
import type { Cached, ReconcileContext, Reconciler, Request, Result } from "../../runtime/index.js";
import { done, keyOf, requeueAfter } from "../../runtime/index.js";
import {
  chooseVictims,
  matchesSelector,
  scheduleBatch,
  type DesktopRequest,
  type HostView,
} from "../../scheduler/index.js";
import type { ControllerContext } from "../context.js";
import { desktopResources, hostView, vouchedFor } from "../shared/hostview.js";
import { Index, poolKey } from "../shared/indexes.js";
import { patchStatusIfChanged } from "../shared/status.js";
import { mapLimit } from "../shared/concurrency.js";
import { imageHash, planPool, type PoolPlan } from "./plan.js";
import { FailureBackoff } from "./failure-backoff.js";

const WRITE_CONCURRENCY = 16;

export class PoolReconciler implements Reconciler {
  private readonly backoff: FailureBackoff;

  constructor(private readonly ctx: ControllerContext) {
    this.backoff = new FailureBackoff(ctx.clock, ctx.settings.failureBackoff);
  }

  async reconcile(req: Request, rc: ReconcileContext): Promise<Result> {
    const { informers } = this.ctx;
    const pool = informers.pools.get(keyOf(req));
    const key = poolKey(req.namespace, req.name);
    if (!pool || pool.metadata.deletionTimestamp) return done(); // desktops go by owner reference

    const desktops = informers.desktops.byIndex(Index.Pool, key);
    const plan = planPool(pool, desktops, this.waitingSessions(key), (host) =>
      vouchedFor(informers.hosts.get(host)),
    );
    this.noteOutcomes(pool, key, desktops);
    const hosts = this.hostViews();
    const eligible = hosts.filter((h) => this.hostMatches(pool, h));
    const backingOff = this.backoff.active
      ? eligible.filter((h) => this.backoff.remainingMs(key, h.name) > 0)
      : [];
    let unplaced: string | undefined;

    const settled = this.ctx.expectations.satisfied(key);
    if (!pool.spec.paused && settled) {
      await this.deleteDesktops(key, plan.replace, "Replaced", rc);
      const victims = chooseVictims(
        plan.idle.map((d) => ({ name: d.metadata.name, host: d.spec.hostRef ?? "" })),
        hosts,
        plan.scaleIn,
      );
      const byName = new Map(plan.idle.map((d) => [d.metadata.name, d]));
      await this.deleteDesktops(
        key,
        victims.flatMap((n) => byName.get(n) ?? []),
        "ScaledIn",
        rc,
      );
      unplaced = await this.createDesktops(pool, key, plan, hosts, backingOff, rc);
    }

    await patchStatusIfChanged(
      this.ctx.clients.pools,
      pool,
      this.status(pool, plan, eligible.length, unplaced, this.backoffMessage(key, backingOff)),
    );
    if (!settled) return requeueAfter(2_000);
    if (unplaced !== undefined) {
      // Look again when the first backoff ends, or in 10 s for capacity to appear.
      const waits = backingOff.map((h) => this.backoff.remainingMs(key, h.name));
      return requeueAfter(Math.min(10_000, ...waits.map((ms) => ms + 50)));
    }
    return done();
  }

  /**
   * Feeds the failure backoff: a desktop that failed before it was ever Available counts
   * against its host, and one that came up clears the host's count.
   */
  private noteOutcomes(pool: Cached<DesktopPool>, key: string, desktops: readonly Cached<Desktop>[]): void {
    for (const d of desktops) {
      const host = d.spec.hostRef;
      const cameUp = d.status?.provisionedAt !== undefined;
      // Runs over every desktop of the pool on every pass: only failures and (while some host
      // is backed off) successes cost more than this check.
      if (!host || (cameUp ? !this.backoff.active : d.status?.phase !== "Failed")) continue;
      const createdAt = Date.parse(d.metadata.creationTimestamp ?? "") || 0;
      if (cameUp) {
        this.backoff.succeeded(key, host, createdAt);
        continue;
      }
      const why = d.status?.message ?? "no message";
      const record = this.backoff.failed(key, host, d.metadata.uid ?? d.metadata.name, createdAt, why);
      if (record === undefined) continue;
      this.ctx.events.event(
        pool,
        "Warning",
        R.ProvisioningBackoff,
        `desktop ${d.metadata.name} failed on host ${host} (${record.failures} in a row): ` +
          `${why}; no new desktops go to ${host} for ${Math.round(record.delayMs / 1000)} s`,
      );
    }
  }

  /**
   * "…: h1 (3 failed in a row, until 2026-11-30T12:01:05Z)", or undefined. The time is absolute
   * so that the message, and so the status, does not change on every pass.
   */
  private backoffMessage(key: string, backingOff: readonly HostView[]): string | undefined {
    if (backingOff.length === 0) return undefined;
    const parts = backingOff.map((h) => {
      const until = this.ctx.clock.now() + this.backoff.remainingMs(key, h.name);
      const at = new Date(Math.ceil(until / 1000) * 1000).toISOString().replace(".000Z", "Z");
      const why = this.backoff.lastMessage(key, h.name);
      return `${h.name} (${this.backoff.failures(key, h.name)} failed in a row, until ${at}${why ? `; last: ${why}` : ""})`;
    });
    return `backing off hosts where new desktops keep failing: ${parts.join(", ")}`;
  }

  /** Sessions of the pool that no desktop is bound to yet: each will need one. */
  private waitingSessions(key: string): number {
    let n = 0;
    for (const s of this.ctx.informers.sessions.byIndex(Index.Pool, key)) {
      if (s.metadata.deletionTimestamp || s.status?.phase === "Ended" || s.status?.phase === "Failed")
        continue;
      if (this.ctx.informers.desktops.byIndex(Index.SessionUID, s.metadata.uid ?? "").length === 0) n++;
    }
    return n;
  }

  private hostViews(): HostView[] {
    const { hosts, desktops } = this.ctx.informers;
    const reservations = this.ctx.expectations.reservations();
    return hosts.list().map((h) =>
      hostView(
        h,
        desktops.byIndex(Index.Host, h.metadata.name),
        reservations.filter((r) => r.host === h.metadata.name),
      ),
    );
  }

  private hostMatches(pool: Cached<DesktopPool>, h: HostView): boolean {
    const types = pool.spec.hypervisorTypes;
    return (
      h.ready &&
      !h.unschedulable &&
      !h.draining &&
      (!types || types.length === 0 || types.includes(h.hypervisorType)) &&
      matchesSelector(pool.spec.hostSelector, h.labels)
    );
  }

  private async deleteDesktops(
    key: string,
    victims: readonly Cached<Desktop>[],
    why: string,
    rc: ReconcileContext,
  ): Promise<void> {
    await mapLimit(victims, WRITE_CONCURRENCY, async (d) => {
      const dk = keyOf(d.metadata);
      this.ctx.expectations.expectDelete(key, dk);
      try {
        // Preconditions: never delete a desktop a session bound a moment ago.
        await this.ctx.clients.desktops.delete(d.metadata, {
          preconditions: { uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion },
        });
        rc.log.info({ desktop: d.metadata.name, why }, "deleted desktop");
      } catch (err) {
        this.ctx.expectations.forget(dk);
        rc.log.info(
          { desktop: d.metadata.name, err: String(err) },
          "desktop changed before delete; will look again",
        );
      }
    });
  }

  /** Places and creates the desktops the plan asks for; returns the scheduler's message if some found no host. */
  private async createDesktops(
    pool: Cached<DesktopPool>,
    key: string,
    plan: PoolPlan,
    hosts: HostView[],
    backingOff: readonly HostView[],
    rc: ReconcileContext,
  ): Promise<string | undefined> {
    const count = Math.min(plan.create, this.ctx.settings.maxCreatesPerPass);
    if (count === 0) return undefined;
    const size = desktopResources(pool.spec.resources);
    const request: DesktopRequest = {
      pool: key,
      ...size,
      imageSha256: pool.spec.image.sha256,
      hypervisorTypes: pool.spec.hypervisorTypes,
      hostSelector: pool.spec.hostSelector as DesktopRequest["hostSelector"],
      strategy: pool.spec.placement?.strategy ?? "BreadthFirst",
      maxProvisioningPerHost: pool.spec.placement?.maxProvisioningPerHost ?? 4,
      backingOff: new Set(backingOff.map((h) => h.name)),
      containerDisk: pool.spec.image.containerDisk !== undefined,
    };
    const results = scheduleBatch(
      Array.from({ length: count }, () => request),
      hosts,
    );
    const hostsByName = new Map(this.ctx.informers.hosts.list().map((h) => [h.metadata.name, h]));
    const placed = results
      .flatMap((r) => (r.host ? [hostsByName.get(r.host)] : []))
      .filter((h) => h !== undefined);
    const failed = results.find((r) => r.host === null);
    await mapLimit(placed, WRITE_CONCURRENCY, async (host) => {
      const desktop = this.newDesktop(pool, host);
      const dk = keyOf(desktop.metadata);
      this.ctx.expectations.expectCreate(key, dk, { host: host.metadata.name, ...size });
      try {
        await this.ctx.clients.desktops.create(desktop);
      } catch (err) {
        this.ctx.expectations.forget(dk);
        throw err;
      }
    });
    if (placed.length > 0) rc.log.info({ created: placed.length }, "created desktops");
    if (failed && failed.host === null) {
      const message = `${count - placed.length} of ${count} new desktops could not be placed: ${failed.message}`;
      this.ctx.events.event(pool, "Warning", "FailedScheduling", message);
      return message;
    }
    return undefined;
  }

  private newDesktop(pool: Cached<DesktopPool>, host: Cached<HostNode>): Desktop {
    const name = `${pool.metadata.name}-${randomBytes(4).toString("hex")}`;
    const labels: Record<string, string> = {
      [Labels.Pool]: pool.metadata.name,
      [Labels.Host]: host.metadata.name,
    };
    const agent = host.metadata.labels?.[Labels.Agent];
    if (agent) labels[Labels.Agent] = agent;
    return {
      apiVersion: API_VERSION,
      kind: Kinds.Desktop,
      metadata: {
        name,
        namespace: pool.metadata.namespace,
        labels,
        finalizers: [Finalizers.DesktopCleanup],
        ownerReferences: [
          {
            apiVersion: API_VERSION,
            kind: Kinds.DesktopPool,
            name: pool.metadata.name,
            uid: pool.metadata.uid ?? "",
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: {
        poolRef: pool.metadata.name,
        hostRef: host.metadata.name,
        hypervisorType: host.spec.hypervisor.type,
        image: structuredClone(pool.spec.image) as Desktop["spec"]["image"],
        resources: structuredClone(pool.spec.resources) as Desktop["spec"]["resources"],
        imageHash: imageHash(pool),
      },
    };
  }

  private status(
    pool: Cached<DesktopPool>,
    plan: PoolPlan,
    hosts: number,
    unplaced?: string,
    backoff?: string,
  ): DesktopPoolStatus {
    const now = new Date(this.ctx.clock.now());
    const gen = pool.metadata.generation;
    const buffer = pool.spec.buffer ?? 0;
    let conditions = pool.status?.conditions as Condition[] | undefined;
    const set = (type: string, ok: boolean, reason: string, message: string): void => {
      conditions = setCondition(
        conditions,
        { type, status: ok ? "True" : "False", reason, message },
        gen,
        now,
      );
    };
    const selector = JSON.stringify(pool.spec.hostSelector ?? {});
    if (hosts > 0) set(C.HostsAvailable, true, R.HostsFound, `${hosts} eligible host(s)`);
    else {
      const message = `no Ready, schedulable HostNode matches hostSelector ${selector} and hypervisorTypes [${(pool.spec.hypervisorTypes ?? []).join(", ") || "any"}]`;
      set(C.HostsAvailable, false, R.NoEligibleHosts, message);
      this.ctx.events.event(pool, "Warning", R.NoEligibleHosts, message);
    }
    const full = plan.counts.available >= buffer;
    let reason: string = R.BufferFull;
    let message = `${plan.counts.available} of ${buffer} warm desktops available`;
    if (!full) {
      if (plan.atMax) reason = R.AtMaximum;
      else if (backoff) {
        // Hosts refused for failing desktops: that, not capacity, is what to look at first.
        reason = R.ProvisioningFailing;
        message = [message, unplaced, backoff].filter((m) => m !== undefined).join("; ");
      } else if (unplaced) [reason, message] = [R.InsufficientCapacity, unplaced];
      else if (plan.counts.failed > 0) reason = R.ProvisioningFailing;
      else reason = R.Provisioning;
    }
    set(C.BufferSatisfied, full, reason, message);
    if (pool.spec.paused)
      set(C.Ready, false, R.Paused, "spec.paused is true: the pool neither creates nor deletes desktops");
    else if (hosts === 0) set(C.Ready, false, R.NoEligibleHosts, "no eligible hosts");
    else set(C.Ready, full, full ? R.PoolReady : reason, message);
    // Earlier versions said here that profiles were not synced yet; they are now (each user's
    // DesktopProfile says how), so that condition is dropped wherever it was left.
    conditions = conditions?.filter((c) => c.type !== "ProfilesSynced");
    return { observedGeneration: gen, conditions, ...plan.counts, hosts, imageHash: imageHash(pool) };
  }
}
