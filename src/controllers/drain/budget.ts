// Fleet maintenance budgets (pure). Each pool caps how many of its eligible hosts may be out of
// service at once (spec.maintenance.maxUnavailableHosts: a count, or a percentage of the hosts
// its selector and hypervisor types match). A host is out of service when it is not Ready, is
// cordoned, or has a drain that has started. A requested drain starts only when, for every pool
// the host serves, taking it out keeps that pool within its budget — so draining a whole rack
// by label proceeds in waves, as a rolling node upgrade does, and never empties a pool.
import { HostNodeConditions, isConditionTrue } from "../../api/conditions.js";
import type { DesktopPool, HostNode, IntOrString } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";
import { matchesSelector, type LabelSelector } from "../../scheduler/index.js";

export interface FleetHost {
  name: string;
  labels: Readonly<Record<string, string>>;
  hypervisorType: string;
  /** Out of service now (or admitted to drain a moment ago). */
  unavailable: boolean;
}

export interface PoolBudget {
  /** namespace/name, for messages. */
  pool: string;
  hostSelector?: LabelSelector;
  hypervisorTypes?: readonly string[];
  maxUnavailableHosts?: IntOrString;
}

export type BudgetVerdict = { ok: true } | { ok: false; pool: string; message: string };

/** The schema's default when a pool says nothing. */
export const DEFAULT_MAX_UNAVAILABLE = 1;

/**
 * How many of `eligible` hosts may be unavailable. A percentage rounds down (as a Deployment's
 * maxUnavailable does) but never below one host when it is above 0%, so that "10%" of a small
 * pool still lets maintenance proceed one host at a time. 0 or "0%" forbids any drain.
 */
export function allowedUnavailable(max: IntOrString | undefined, eligible: number): number {
  const value = max ?? DEFAULT_MAX_UNAVAILABLE;
  if (typeof value === "number") return Math.max(0, Math.floor(value));
  const m = /^(\d+)%$/.exec(value.trim());
  if (!m) return /^\d+$/.test(value.trim()) ? Number(value) : DEFAULT_MAX_UNAVAILABLE;
  const pct = Number(m[1]);
  if (pct <= 0 || eligible <= 0) return 0;
  return Math.max(1, Math.floor((eligible * pct) / 100));
}

export function servesPool(host: FleetHost, pool: PoolBudget): boolean {
  const types = pool.hypervisorTypes;
  return (
    (!types || types.length === 0 || types.includes(host.hypervisorType)) &&
    matchesSelector(pool.hostSelector, host.labels)
  );
}

/** Whether `candidate` may be taken out of service now without breaking any pool's budget. */
export function checkBudget(
  candidate: string,
  hosts: readonly FleetHost[],
  pools: readonly PoolBudget[],
): BudgetVerdict {
  const self = hosts.find((h) => h.name === candidate);
  if (!self) return { ok: true };
  for (const pool of pools) {
    if (!servesPool(self, pool)) continue;
    const eligible = hosts.filter((h) => servesPool(h, pool));
    const out = eligible.filter((h) => h.unavailable || h.name === candidate);
    const allowed = allowedUnavailable(pool.maxUnavailableHosts, eligible.length);
    if (out.length > allowed) {
      const already = eligible.filter((h) => h.unavailable && h.name !== candidate).map((h) => h.name);
      return {
        ok: false,
        pool: pool.pool,
        message:
          `pool ${pool.pool} allows ${allowed} of its ${eligible.length} hosts out of service ` +
          `(maxUnavailableHosts ${String(pool.maxUnavailableHosts ?? DEFAULT_MAX_UNAVAILABLE)}); ` +
          `already out: ${already.join(", ") || "none"}`,
      };
    }
  }
  return { ok: true };
}

/** A drain that has started: requested and admitted (status.drain.startedAt recorded). */
export function drainStarted(host: Cached<HostNode> | undefined): boolean {
  return host?.spec.drain !== undefined && host.status?.drain?.startedAt !== undefined;
}

/**
 * The budget's view of a HostNode. Out of service by its spec (cordon, a started drain) or as
 * its status still reports it (not Ready, not Schedulable): a host just returned to service
 * counts until its Schedulable condition says so, so that no one watching ever sees more hosts
 * out than the budget allows.
 */
export function fleetHost(host: Cached<HostNode>, admitted: boolean): FleetHost {
  const conditions = host.status?.conditions;
  const ready = isConditionTrue(conditions, HostNodeConditions.Ready);
  const schedulable = isConditionTrue(conditions, HostNodeConditions.Schedulable);
  return {
    name: host.metadata.name,
    labels: host.metadata.labels ?? {},
    hypervisorType: host.spec.hypervisor.type,
    unavailable: !ready || !schedulable || host.spec.unschedulable === true || drainStarted(host) || admitted,
  };
}

export function poolBudget(pool: Cached<DesktopPool>): PoolBudget {
  return {
    pool: `${pool.metadata.namespace ?? ""}/${pool.metadata.name}`,
    hostSelector: pool.spec.hostSelector as LabelSelector | undefined,
    hypervisorTypes: pool.spec.hypervisorTypes,
    maxUnavailableHosts: pool.spec.maintenance?.maxUnavailableHosts,
  };
}
