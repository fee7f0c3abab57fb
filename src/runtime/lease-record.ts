// The leader-election decisions on a coordination.k8s.io/v1 Lease, as pure functions.
// Expiry is judged by when *this* process last saw the record change (client-go's rule),
// never by comparing the holder's renewTime with our clock, so clock skew between
// replicas cannot hand the lease to two holders.
import type { KubeObject } from "./resource.js";

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

export interface Lease extends KubeObject {
  spec?: LeaseSpec;
}

/** RFC 3339 with microseconds, the MicroTime format the Lease fields require. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, ".$1000Z");
}

/**
 * May `identity` take (or keep) the lease? Yes if nobody holds it, we hold it, or the holder
 * has not renewed within its lease duration since we observed the record last change.
 */
export function canAcquire(
  spec: LeaseSpec,
  identity: string,
  observedAtMs: number,
  nowMs: number,
  defaultDurationMs: number,
): boolean {
  if (!spec.holderIdentity || spec.holderIdentity === identity) return true;
  const durationMs = spec.leaseDurationSeconds ? spec.leaseDurationSeconds * 1000 : defaultDurationMs;
  return observedAtMs + durationMs <= nowMs;
}

/** The spec we write to acquire or renew. */
export function acquiredSpec(
  old: LeaseSpec | undefined,
  identity: string,
  nowMs: number,
  durationMs: number,
): LeaseSpec {
  const now = microTime(nowMs);
  const leaseDurationSeconds = Math.ceil(durationMs / 1000);
  if (old?.holderIdentity === identity) return { ...old, leaseDurationSeconds, renewTime: now };
  return {
    holderIdentity: identity,
    leaseDurationSeconds,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: old ? (old.leaseTransitions ?? 0) + 1 : 0,
  };
}

/** The spec we write on a clean shutdown: no holder, so the next candidate takes over at once. */
export function releasedSpec(old: LeaseSpec, nowMs: number): LeaseSpec {
  const now = microTime(nowMs);
  return {
    holderIdentity: "",
    leaseDurationSeconds: 1,
    acquireTime: now,
    renewTime: now,
    leaseTransitions: old.leaseTransitions ?? 0,
  };
}
