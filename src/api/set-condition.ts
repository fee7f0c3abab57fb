// Pure helpers over metav1.Condition lists. They never mutate their input (it may be an
// informer's cached object) and leave lastTransitionTime alone unless status changes.
import { toKubeTime } from "./time.js";
import type { Condition, ConditionStatus } from "./types.generated.js";

export interface ConditionUpdate<T extends string = string, R extends string = string> {
  type: T;
  status: ConditionStatus;
  reason: R;
  message: string;
}

export function findCondition(
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isConditionTrue(conditions: readonly Condition[] | undefined, type: string): boolean {
  return findCondition(conditions, type)?.status === "True";
}

/**
 * Returns `conditions` with `update` applied: added at the end if its type is new, else
 * replaced in place. lastTransitionTime becomes `now` only when the status changes; an
 * unchanged condition keeps its object identity, so callers can cheaply tell "nothing changed".
 */
export function setCondition(
  conditions: readonly Condition[] | undefined,
  update: ConditionUpdate,
  observedGeneration: number | undefined,
  now: Date,
): Condition[] {
  const existing = findCondition(conditions, update.type);
  const next: Condition = {
    type: update.type,
    status: update.status,
    ...(observedGeneration !== undefined ? { observedGeneration } : {}),
    lastTransitionTime:
      existing !== undefined && existing.status === update.status
        ? existing.lastTransitionTime
        : toKubeTime(now),
    reason: update.reason,
    message: update.message,
  };
  if (existing === undefined) return [...(conditions ?? []), next];
  const unchanged =
    existing.status === next.status &&
    existing.reason === next.reason &&
    existing.message === next.message &&
    existing.observedGeneration === next.observedGeneration;
  return (conditions ?? []).map((c) => (c === existing ? (unchanged ? existing : next) : c));
}
