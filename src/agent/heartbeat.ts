// One heartbeat loop for every host of the agent: each round renews (or acquires) each host's
// Lease, with bounded parallelism, so hundreds of hosts cost one request per host per round.
// Holding a host's Lease is what lets the agent serve it; losing it to another agent stops that.
// Stopping never deletes or releases Leases: the hosts keep their VMs, and the controller
// judges them by whether an agent comes back within the lease duration.
import { hostLeaseName } from "../controllers/shared/resources.js";
import {
  acquiredSpec,
  ConflictError,
  NotFoundError,
  type Clock,
  type Lease,
  type Logger,
  type ObjectClient,
} from "../runtime/index.js";
import { hostLeaseManifest, leaseStep, renewedLease } from "./lease.js";
import { every, forEachLimit, type Loop } from "./loop.js";
import type { AgentMetrics } from "./metrics.js";

export interface HeartbeatDeps {
  readonly leases: ObjectClient<Lease>;
  readonly namespace: string;
  readonly identity: string;
  readonly durationSeconds: number;
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  /** The hosts to heartbeat for. */
  readonly hosts: () => string[];
  /** Called every round while the Lease is ours (serve the host; idempotent). */
  readonly held: (host: string) => Promise<void>;
  /** Called when another agent has taken the Lease. */
  readonly lost: (host: string) => Promise<void>;
  readonly concurrency?: number;
}

interface HostLease {
  lease?: Lease;
  held: boolean;
  observedRaw: string;
  observedAt: number;
}

export class Heartbeat {
  private readonly leases = new Map<string, HostLease>();
  private loop?: Loop;

  constructor(private readonly deps: HeartbeatDeps) {}

  /** Runs the first round, then keeps renewing every interval until stop(). */
  start(): Promise<void> {
    return new Promise((resolve) => {
      let first = true;
      this.loop = every(this.deps.clock, this.deps.intervalMs, async () => {
        await this.round();
        if (first) resolve();
        first = false;
      });
    });
  }

  async stop(): Promise<void> {
    await this.loop?.stop();
  }

  /** One round over every host; a failing host is logged and does not hold up the others. */
  async round(): Promise<void> {
    await forEachLimit(this.deps.hosts(), this.deps.concurrency ?? 16, async (host) => {
      try {
        await this.beat(host);
      } catch (err) {
        this.deps.metrics.lease("error");
        this.deps.log.warn({ host, err: String(err) }, "heartbeat failed");
      }
    });
  }

  private async beat(host: string): Promise<void> {
    const { leases, namespace, identity, durationSeconds, clock, metrics } = this.deps;
    const st = this.leases.get(host) ?? { held: false, observedRaw: "", observedAt: 0 };
    this.leases.set(host, st);
    if (st.held && st.lease !== undefined && (await this.renew(host, st))) {
      metrics.lease("renewed");
      return this.deps.held(host);
    }
    const current = await leases.tryGet({ namespace, name: hostLeaseName(host) });
    if (current === undefined) {
      const spec = acquiredSpec(undefined, identity, clock.now(), durationSeconds * 1000);
      st.lease = await leases.create(hostLeaseManifest(host, namespace, spec));
      return this.acquired(host, st);
    }
    const raw = JSON.stringify(current.spec ?? {});
    if (raw !== st.observedRaw) [st.observedRaw, st.observedAt] = [raw, clock.now()];
    const step = leaseStep(current, host, identity, st.observedAt, clock.now(), durationSeconds);
    if (step.action === "wait") {
      metrics.lease("waiting");
      this.deps.log.debug({ host, holder: step.holder }, "host Lease held by another agent; waiting");
      if (!st.held) return;
      st.held = false;
      this.deps.log.warn({ host, holder: step.holder }, "host Lease taken by another agent; stop serving");
      return this.deps.lost(host);
    }
    st.lease = await leases.update(step.lease);
    return this.acquired(host, st);
  }

  /** False when someone else wrote (or deleted) the Lease: read it and decide again. */
  private async renew(host: string, st: HostLease): Promise<boolean> {
    const { identity, durationSeconds, clock } = this.deps;
    try {
      const lease = renewedLease(st.lease as Lease, host, identity, clock.now(), durationSeconds);
      st.lease = await this.deps.leases.update(lease);
      return true;
    } catch (err) {
      if (err instanceof ConflictError || err instanceof NotFoundError) return false;
      throw err;
    }
  }

  private async acquired(host: string, st: HostLease): Promise<void> {
    if (!st.held) this.deps.log.info({ host }, "host Lease acquired");
    st.held = true;
    this.deps.metrics.lease("acquired");
    await this.deps.held(host);
  }
}
