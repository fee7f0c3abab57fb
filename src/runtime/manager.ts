// The manager ties the runtime together for one process: the API connection, shared
// informers, controllers, leader election, the health/metrics server and shutdown.
//
// Order of life: the health server and informers start at once (a standby replica keeps
// warm caches, so failover does not wait for a full list); controllers start only once this
// process leads and every informer has synced. Shutdown (stop(), or SIGTERM/SIGINT after
// handleSignals()) stops controllers from taking new work, lets in-flight reconciles finish
// within shutdownTimeoutMs, releases the lease, closes watches and the server.
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ObjectClient } from "./client.js";
import { systemClock, type Clock } from "./clock.js";
import { Controller, type ControllerOptions } from "./controller.js";
import { HealthServer } from "./health.js";
import type { Informer } from "./informer.js";
import { InformerFactory, type InformerRequest } from "./informers.js";
import { LeaderElector, type LeaderElectionOptions } from "./leader.js";
import { createLogger } from "./logger.js";
import { RuntimeMetrics } from "./metrics.js";
import type { KubeObject, ResourceRef } from "./resource.js";
import { RestClient } from "./rest.js";
import { newWatch } from "./watch.js";

export type LeaderElectionConfig = Omit<
  LeaderElectionOptions,
  "onStartedLeading" | "onStoppedLeading" | "clock" | "logger" | "metrics"
>;

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  logger?: Logger;
  metrics?: RuntimeMetrics;
  clock?: Clock;
  /** Omit to run controllers without election (a single replica, or tests). */
  leaderElection?: LeaderElectionConfig;
  /** Omit for no server. */
  health?: { host?: string; port: number };
  /** Field manager for writes through client(). */
  fieldManager?: string;
  shutdownTimeoutMs?: number;
  stallTimeoutMs?: number;
  /** Default: log and exit(1), since work begun as leader may now overlap the new leader's. */
  onLeadershipLost?: () => void;
}

export class Manager {
  readonly rest: RestClient;
  readonly metrics: RuntimeMetrics;
  readonly logger: Logger;
  readonly informers: InformerFactory;
  private readonly clock: Clock;
  private readonly controllers: Controller[] = [];
  private readonly health?: HealthServer;
  private elector?: LeaderElector;
  private stopping?: Promise<void>;
  private controllersStarted = false;
  private readonly onLeading: (() => void)[] = [];
  private boundPort?: number;

  constructor(private readonly opts: ManagerOptions) {
    this.logger = opts.logger ?? createLogger();
    this.metrics = opts.metrics ?? new RuntimeMetrics();
    this.clock = opts.clock ?? systemClock;
    this.rest = new RestClient(opts.kubeConfig);
    this.informers = new InformerFactory({
      rest: this.rest,
      newWatch: () => newWatch(opts.kubeConfig),
      logger: this.logger,
      clock: this.clock,
      stallTimeoutMs: opts.stallTimeoutMs,
    });
    if (opts.health) {
      this.health = new HealthServer({
        ...opts.health,
        registry: this.metrics.registry,
        logger: this.logger,
      });
      this.health.addHealthzCheck("ping", () => true);
      this.health.addReadyzCheck("informers-synced", () => this.informers.hasSynced());
    }
  }

  informer<T extends KubeObject>(req: InformerRequest<T>): Informer<T> {
    return this.informers.get(req);
  }

  client<T extends KubeObject>(resource: ResourceRef): ObjectClient<T> {
    return new ObjectClient<T>(this.rest, resource, { fieldManager: this.opts.fieldManager });
  }

  /** Runs `fn` when this process starts leading, after the caches synced, before any controller starts. */
  whenLeading(fn: () => void): void {
    this.onLeading.push(fn);
  }

  addController(opts: Omit<ControllerOptions, "logger" | "metrics" | "clock">): Controller {
    if (this.controllersStarted) throw new Error(`controller ${opts.name} added after controllers started`);
    const controller = new Controller({
      ...opts,
      logger: this.logger,
      metrics: this.metrics,
      clock: this.clock,
    });
    this.controllers.push(controller);
    return controller;
  }

  /** The health server's port, once start() has resolved. */
  get healthPort(): number | undefined {
    return this.boundPort;
  }

  isLeader(): boolean {
    return this.elector ? this.elector.isLeader() : this.controllersStarted;
  }

  /** Starts the server and informers, then campaigns; resolves once campaigning has begun. */
  async start(): Promise<void> {
    if (this.health) this.boundPort = await this.health.listen();
    this.informers.start();
    if (!this.opts.leaderElection) {
      void this.startControllers();
      return;
    }
    this.elector = new LeaderElector(this.rest, {
      ...this.opts.leaderElection,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      onStartedLeading: () => void this.startControllers(),
      onStoppedLeading: () => this.leadershipLost(),
    });
    void this.elector.run();
  }

  /** Graceful shutdown; safe to call more than once. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  /** Stops on SIGTERM or SIGINT, then exits (0 if the shutdown completed). */
  handleSignals(exit: (code: number) => void = (code) => process.exit(code)): void {
    const onSignal = (signal: NodeJS.Signals): void => {
      this.logger.info({ signal }, "shutting down");
      this.stop().then(
        () => exit(0),
        (err: unknown) => {
          this.logger.error({ err }, "shutdown failed");
          exit(1);
        },
      );
    };
    process.once("SIGTERM", onSignal);
    process.once("SIGINT", onSignal);
  }

  private async startControllers(): Promise<void> {
    const synced = await this.informers.waitForSync();
    if (!synced || this.stopping || this.controllersStarted) return;
    this.controllersStarted = true;
    for (const fn of this.onLeading) fn();
    for (const c of this.controllers) c.start();
  }

  private leadershipLost(): void {
    // Work begun as leader must not go on: abort in-flight reconciles at once.
    for (const c of this.controllers) void c.stop(0);
    if (this.opts.onLeadershipLost) return this.opts.onLeadershipLost();
    this.logger.fatal("leadership lost; exiting");
    process.exit(1);
  }

  private async shutdown(): Promise<void> {
    const timeoutMs = this.opts.shutdownTimeoutMs ?? 30_000;
    const finished = await Promise.all(this.controllers.map((c) => c.stop(timeoutMs)));
    if (!finished.every(Boolean))
      this.logger.warn("some reconciles did not finish before the shutdown timeout");
    await this.elector?.stop(true);
    await this.informers.stop();
    await this.health?.close();
    this.logger.info("manager stopped");
  }
}
