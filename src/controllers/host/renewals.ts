// When this controller saw each host's heartbeat Lease renewed, on its own clock. The agent's
// `renewTime` is written on the agent's clock, which may run minutes ahead or behind; comparing
// it with the controller's clock would fail a healthy host (agent behind) or keep a dead one
// Ready (agent ahead). So, as Kubernetes' node lifecycle controller does with its probe
// timestamps, a renewal is a *change* of renewTime as observed here, dated when it was observed.
// A relist that re-sends an unchanged Lease is not a renewal. A Lease first seen counts as
// renewed then, and a process that starts leading dates every renewal it saw as a standby anew:
// after a start or a failover every host gets a fresh grace period.
// It is fed before any filter that drops renewals of Ready hosts (see heartbeats.ts).
import type { Cached, Clock, EventHandler, KubeObject } from "../../runtime/index.js";
import type { LeaseSpec } from "../context.js";

type Lease = KubeObject & { spec?: LeaseSpec };

/** A renewal as observed: what the Lease said and when this process saw it change. */
export interface ObservedRenewal {
  /** The Lease's renewTime as written (agent's clock); compared, never used as a time. */
  readonly renewTime: string;
  readonly holder?: string;
  /** This process's clock when it first saw this renewTime. */
  readonly observedAt: number;
}

export class ObservedRenewals {
  private readonly byLease = new Map<string, ObservedRenewal>();

  constructor(private readonly clock: Clock) {}

  /** The newest renewal seen of the Lease `name` (in the system namespace), if any. */
  get(lease: string): ObservedRenewal | undefined {
    return this.byLease.get(lease);
  }

  /** Records a Lease as seen now; a renewal only when its renewTime changed. */
  observe(lease: Cached<Lease>): void {
    const renewTime = lease.spec?.renewTime;
    const name = lease.metadata.name;
    if (renewTime === undefined || renewTime === null) {
      this.byLease.delete(name);
      return;
    }
    const seen = this.byLease.get(name);
    if (seen?.renewTime === renewTime) return;
    this.byLease.set(name, {
      renewTime,
      ...(lease.spec?.holderIdentity ? { holder: lease.spec.holderIdentity } : {}),
      observedAt: this.clock.now(),
    });
  }

  /**
   * Dates every renewal seen so far now: a new leader gives every host a fresh grace period
   * (the node lifecycle controller does the same), rather than judge hosts on observations it
   * made as a standby, whose watch may have lagged.
   */
  freshGrace(): void {
    const now = this.clock.now();
    for (const [name, seen] of this.byLease) this.byLease.set(name, { ...seen, observedAt: now });
  }

  forget(lease: Cached<Lease>): void {
    this.byLease.delete(lease.metadata.name);
  }

  /** The informer handler that keeps this up to date; register it before any filtering handler. */
  handler(): EventHandler<Lease> {
    return {
      add: (l) => this.observe(l),
      update: (_, n) => this.observe(n),
      delete: (l) => this.forget(l),
    };
  }
}
