// A host's heartbeat Lease, as pure functions over the runtime's lease rules: one Lease per
// host, held by the agent serving it and renewed like a Node's lease. Another agent may take
// it only once it has gone unrenewed for its whole duration, as observed by that agent.
import { Labels } from "../api/index.js";
import { hostLeaseName } from "../controllers/shared/resources.js";
import { acquiredSpec, canAcquire, mutableCopy, type Lease, type LeaseSpec } from "../runtime/index.js";

export function hostLeaseManifest(host: string, namespace: string, spec: LeaseSpec): Lease {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: hostLeaseName(host), namespace, labels: { [Labels.Host]: host } },
    spec,
  };
}

export type LeaseStep =
  /** Write this Lease (a checked update): we hold it, or may take it over. */
  | { readonly action: "write"; readonly lease: Lease }
  /** Another agent holds it and renews it. */
  | { readonly action: "wait"; readonly holder: string };

/**
 * What to do with the Lease as read now. `observedAtMs` is when this agent last saw its spec
 * change, so that clock skew between agents cannot hand one host to two of them.
 */
export function leaseStep(
  current: Lease,
  host: string,
  identity: string,
  observedAtMs: number,
  nowMs: number,
  durationSeconds: number,
): LeaseStep {
  const spec = current.spec ?? {};
  if (!canAcquire(spec, identity, observedAtMs, nowMs, durationSeconds * 1000)) {
    return { action: "wait", holder: spec.holderIdentity ?? "" };
  }
  return { action: "write", lease: renewedLease(current, host, identity, nowMs, durationSeconds) };
}

/** The Lease with a fresh renewTime (and holder), keeping its resourceVersion for the check. */
export function renewedLease(
  current: Lease,
  host: string,
  identity: string,
  nowMs: number,
  durationSeconds: number,
): Lease {
  const lease = mutableCopy<Lease>(current);
  lease.metadata.labels = { ...lease.metadata.labels, [Labels.Host]: host };
  lease.spec = acquiredSpec(current.spec, identity, nowMs, durationSeconds * 1000);
  return lease;
}
