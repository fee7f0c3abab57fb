// Admitting drains against the pools' budgets. The decision reads the informer cache, which
// lags the controller's own writes: two hosts admitted in quick succession would each see the
// other still in service. So admissions are remembered here until the cache shows the host's
// status.drain.startedAt (or a TTL passes), and count as "out of service" meanwhile. Decisions
// are synchronous (no await between reading and recording), so concurrent reconciles of
// different hosts in one process can never both take the last slot of a budget.
import { toKubeTime } from "../../api/time.js";
import type { DesktopPool, HostNode } from "../../api/types.generated.js";
import type { Cached, Clock } from "../../runtime/index.js";
import { checkBudget, fleetHost, poolBudget, type BudgetVerdict } from "./budget.js";

interface Admitted {
  startedAt: string;
  expiresAt: number;
}

export type Admission = { admitted: true; startedAt: string } | { admitted: false; verdict: BudgetVerdict };

export class DrainAdmission {
  private readonly admitted = new Map<string, Admitted>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  /**
   * The drain's start time if it has started (in the cache or admitted here a moment ago);
   * otherwise admits it now when every pool's budget allows, else says which pool forbids it.
   */
  admit(
    host: Cached<HostNode>,
    hosts: readonly Cached<HostNode>[],
    pools: readonly Cached<DesktopPool>[],
  ): Admission {
    this.expire();
    const name = host.metadata.name;
    const recorded = host.status?.drain?.startedAt;
    if (recorded !== undefined) {
      this.admitted.delete(name); // the cache caught up
      return { admitted: true, startedAt: recorded };
    }
    const earlier = this.admitted.get(name);
    if (earlier) return { admitted: true, startedAt: earlier.startedAt };
    const fleet = hosts.map((h) => fleetHost(h, this.admitted.has(h.metadata.name)));
    const verdict = checkBudget(
      name,
      fleet,
      pools.filter((p) => !p.metadata.deletionTimestamp).map(poolBudget),
    );
    if (!verdict.ok) return { admitted: false, verdict };
    // Recorded in whole seconds, rounded up: users never get less than the grace period.
    const startedAt = toKubeTime(new Date(Math.ceil(this.clock.now() / 1000) * 1000));
    this.admitted.set(name, { startedAt, expiresAt: this.clock.now() + this.ttlMs });
    return { admitted: true, startedAt };
  }

  /** The admission's write failed, or the drain was withdrawn: the host is no longer counted. */
  forget(host: string): void {
    this.admitted.delete(host);
  }

  private expire(): void {
    const now = this.clock.now();
    for (const [name, a] of this.admitted) if (a.expiresAt <= now) this.admitted.delete(name);
  }
}
