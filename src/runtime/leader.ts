// Leader election on a coordination.k8s.io/v1 Lease, with client-go's timing: lease 15 s,
// renew deadline 10 s, retry period 2 s. Writes are resourceVersion-checked, so of two
// candidates racing for a free lease exactly one wins (the other gets a 409 and retries).
//
// A leader that cannot renew within the renew deadline stops leading and calls
// onStoppedLeading. The process should then exit: its in-flight work was started as leader
// and may now overlap the new leader's. The deadline is shorter than the lease so the old
// leader stops before anyone else can acquire. stop() releases the lease (empty holder), so
// a successor takes over at once instead of waiting for the lease to expire.
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { sleep, systemClock, type Clock } from "./clock.js";
import { ConflictError, NotFoundError } from "./errors.js";
import { acquiredSpec, canAcquire, releasedSpec, type Lease } from "./lease-record.js";
import { silentLogger } from "./logger.js";
import type { RuntimeMetrics } from "./metrics.js";
import { collectionPath, objectPath, type ResourceRef } from "./resource.js";
import type { RestClient } from "./rest.js";

export const LEASES: ResourceRef = {
  group: "coordination.k8s.io",
  version: "v1",
  plural: "leases",
  namespaced: true,
};

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  /** Unique per process; default hostname_uuid. */
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called once leadership is acquired. */
  onStartedLeading?: () => void;
  /** Called when leadership is lost (not after stop()); the process should exit. */
  onStoppedLeading?: () => void;
  clock?: Clock;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  random?: () => number;
}

export class LeaderElector {
  readonly identity: string;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly stopping = new AbortController();
  private lease?: Lease;
  private observedRaw = "";
  private observedAt = 0;
  private leading = false;
  private running?: Promise<void>;

  constructor(
    private readonly rest: RestClient,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.identity = opts.identity ?? `${hostname()}_${randomUUID()}`;
    this.clock = opts.clock ?? systemClock;
    this.leaseDurationMs = opts.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = opts.retryPeriodMs ?? 2_000;
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs)) {
      throw new Error("leader election needs leaseDuration > renewDeadline > retryPeriod");
    }
    this.log = (opts.logger ?? silentLogger()).child({
      lease: `${opts.namespace}/${opts.name}`,
      identity: this.identity,
    });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder this process last saw on the lease. */
  observedLeader(): string | undefined {
    return this.lease?.spec?.holderIdentity || undefined;
  }

  /** Campaigns, then renews; resolves when leadership ends (lost or stopped). */
  run(): Promise<void> {
    this.running ??= this.campaign();
    return this.running;
  }

  /** Stops campaigning or renewing; releases the lease if held (unless release is false). */
  async stop(release = true): Promise<void> {
    const wasLeading = this.leading;
    this.stopping.abort();
    await this.running;
    if (wasLeading && release) await this.release();
    this.setLeading(false);
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  private async campaign(): Promise<void> {
    while (!this.stopped && !(await this.tryAcquireOrRenew())) {
      const jittered = this.retryPeriodMs * (1 + 1.2 * (this.opts.random ?? Math.random)());
      await sleep(this.clock, jittered, this.stopping.signal);
    }
    if (this.stopped) return;
    this.setLeading(true);
    this.log.info("acquired lease; leading");
    this.opts.onStartedLeading?.();

    let lastRenew = this.clock.now();
    while (!this.stopped) {
      await sleep(this.clock, this.retryPeriodMs, this.stopping.signal);
      if (this.stopped) return;
      if (await this.tryAcquireOrRenew()) {
        lastRenew = this.clock.now();
      } else if (this.clock.now() - lastRenew >= this.renewDeadlineMs) {
        this.setLeading(false);
        this.log.error(
          { renewDeadlineMs: this.renewDeadlineMs },
          "failed to renew lease in time; leadership lost",
        );
        this.opts.onStoppedLeading?.();
        return;
      }
    }
  }

  private setLeading(leading: boolean): void {
    this.leading = leading;
    this.opts.metrics?.setLeader(this.opts.name, leading);
  }

  /** One attempt; true if we hold the lease afterwards. Never throws. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    try {
      const current = await this.request<Lease>("GET");
      this.observe(current, now);
      const spec = current.spec ?? {};
      if (!canAcquire(spec, this.identity, this.observedAt, now, this.leaseDurationMs)) return false;
      const next = { ...current, spec: acquiredSpec(spec, this.identity, now, this.leaseDurationMs) };
      this.observe(await this.request<Lease>("PUT", next), now);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return this.tryCreate(now);
      if (!(err instanceof ConflictError)) this.log.warn({ err }, "lease request failed");
      return false;
    }
  }

  private async tryCreate(now: number): Promise<boolean> {
    const lease: Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { name: this.opts.name, namespace: this.opts.namespace },
      spec: acquiredSpec(undefined, this.identity, now, this.leaseDurationMs),
    };
    try {
      this.observe(await this.request<Lease>("POST", lease), now);
      return true;
    } catch (err) {
      if (!(err instanceof ConflictError)) this.log.warn({ err }, "lease create failed");
      return false;
    }
  }

  private observe(lease: Lease, now: number): void {
    this.lease = lease;
    const raw = JSON.stringify(lease.spec ?? {});
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedAt = now;
    }
  }

  private async release(): Promise<void> {
    const signal = AbortSignal.timeout(this.renewDeadlineMs);
    try {
      const current = await this.request<Lease>("GET", undefined, signal);
      if (current.spec?.holderIdentity !== this.identity) return;
      await this.request("PUT", { ...current, spec: releasedSpec(current.spec, this.clock.now()) }, signal);
      this.log.info("released lease");
    } catch (err) {
      this.log.warn({ err }, "could not release lease; successor waits for it to expire");
    }
  }

  /** While campaigning, a request ends with stop() or after one retry period, so a hung call cannot outlive the renew deadline. */
  private request<T>(method: "GET" | "PUT" | "POST", body?: Lease, signal?: AbortSignal): Promise<T> {
    const { namespace, name } = this.opts;
    const path =
      method === "POST" ? collectionPath(LEASES, namespace) : objectPath(LEASES, { namespace, name });
    signal ??= AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.retryPeriodMs)]);
    return this.rest.request<T>({ method, path, body, signal });
  }
}
