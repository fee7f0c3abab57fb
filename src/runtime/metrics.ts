// Prometheus metrics under controller-runtime's and client-go's names, so existing
// dashboards and alerts work unchanged. Everything lives in one Registry owned by this
// object (never prom-client's global one); other modules register their own metrics on
// `registry` (e.g. `new Gauge({ name: "griddesk_…", registers: [metrics.registry] })`).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { QueueMetrics, QueueProbe } from "./workqueue.js";

/** The result label of controller_runtime_reconcile_total. */
export type ReconcileResult = "success" | "error" | "requeue" | "requeue_after" | "terminal_error" | "panic";

const RESULTS: readonly ReconcileResult[] = [
  "success",
  "error",
  "requeue",
  "requeue_after",
  "terminal_error",
  "panic",
];

export interface ReconcileMetrics {
  result(result: ReconcileResult, seconds: number): void;
  activeWorkers(delta: number): void;
}

export interface RuntimeMetricsOptions {
  /** process_* and nodejs_* metrics; tests turn them off. Default true. */
  processMetrics?: boolean;
}

export class RuntimeMetrics {
  readonly registry = new Registry();
  private readonly reconcileTotal: Counter<"controller" | "result">;
  private readonly reconcileErrors: Counter<"controller">;
  private readonly terminalErrors: Counter<"controller">;
  private readonly reconcilePanics: Counter<"controller">;
  private readonly reconcileTime: Histogram<"controller">;
  private readonly activeWorkersGauge: Gauge<"controller">;
  private readonly maxConcurrent: Gauge<"controller">;
  private readonly queueDepth: Gauge<"name">;
  private readonly queueAdds: Counter<"name">;
  private readonly queueLatency: Histogram<"name">;
  private readonly workDuration: Histogram<"name">;
  private readonly retries: Counter<"name">;
  private readonly leaderStatus: Gauge<"name">;
  private readonly probes = new Map<string, QueueProbe>();

  constructor(opts: RuntimeMetricsOptions = {}) {
    const registers = [this.registry];
    const c = (name: string, help: string): Counter<"controller"> =>
      new Counter({ name, help, labelNames: ["controller"], registers });
    this.reconcileTotal = new Counter({
      name: "controller_runtime_reconcile_total",
      help: "Total number of reconciliations per controller",
      labelNames: ["controller", "result"],
      registers,
    });
    this.reconcileErrors = c(
      "controller_runtime_reconcile_errors_total",
      "Total number of reconciliation errors per controller",
    );
    this.terminalErrors = c(
      "controller_runtime_terminal_reconcile_errors_total",
      "Total number of terminal reconciliation errors per controller",
    );
    this.reconcilePanics = c(
      "controller_runtime_reconcile_panics_total",
      "Total number of reconciliation panics per controller",
    );
    this.reconcileTime = new Histogram({
      name: "controller_runtime_reconcile_time_seconds",
      help: "Length of time per reconciliation per controller",
      labelNames: ["controller"],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60],
      registers,
    });
    this.activeWorkersGauge = new Gauge({
      name: "controller_runtime_active_workers",
      help: "Number of currently used workers per controller",
      labelNames: ["controller"],
      registers,
    });
    this.maxConcurrent = new Gauge({
      name: "controller_runtime_max_concurrent_reconciles",
      help: "Maximum number of concurrent reconciles per controller",
      labelNames: ["controller"],
      registers,
    });

    const queueBuckets = [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10, 100, 1000];
    this.queueDepth = new Gauge({
      name: "workqueue_depth",
      help: "Current depth of workqueue",
      labelNames: ["name"],
      registers,
    });
    this.queueAdds = new Counter({
      name: "workqueue_adds_total",
      help: "Total number of adds handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    this.queueLatency = new Histogram({
      name: "workqueue_queue_duration_seconds",
      help: "How long in seconds an item stays in workqueue before being requested",
      labelNames: ["name"],
      buckets: queueBuckets,
      registers,
    });
    this.workDuration = new Histogram({
      name: "workqueue_work_duration_seconds",
      help: "How long in seconds processing an item from workqueue takes",
      labelNames: ["name"],
      buckets: queueBuckets,
      registers,
    });
    this.retries = new Counter({
      name: "workqueue_retries_total",
      help: "Total number of retries handled by workqueue",
      labelNames: ["name"],
      registers,
    });
    const probes = this.probes;
    new Gauge({
      name: "workqueue_unfinished_work_seconds",
      help: "How many seconds of work has been done that is in progress and hasn't been observed by work_duration",
      labelNames: ["name"],
      registers,
      collect() {
        for (const [name, p] of probes) this.set({ name }, p.unfinishedWorkSeconds());
      },
    });
    new Gauge({
      name: "workqueue_longest_running_processor_seconds",
      help: "How many seconds has the longest running processor for workqueue been running",
      labelNames: ["name"],
      registers,
      collect() {
        for (const [name, p] of probes) this.set({ name }, p.longestRunningProcessorSeconds());
      },
    });
    this.leaderStatus = new Gauge({
      name: "leader_election_master_status",
      help: "Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates master",
      labelNames: ["name"],
      registers,
    });
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Hooks for the work queue named `name` (controller-runtime names it after the controller). */
  queue(name: string): QueueMetrics {
    const labels = { name };
    this.queueDepth.set(labels, 0);
    return {
      added: () => this.queueAdds.inc(labels),
      depth: (n) => this.queueDepth.set(labels, n),
      started: (s) => this.queueLatency.observe(labels, s),
      finished: (s) => this.workDuration.observe(labels, s),
      retried: () => this.retries.inc(labels),
      probe: (p) => void this.probes.set(name, p),
    };
  }

  reconciler(controller: string, maxConcurrent: number): ReconcileMetrics {
    const labels = { controller };
    this.maxConcurrent.set(labels, maxConcurrent);
    this.activeWorkersGauge.set(labels, 0);
    // Zero-valued series from the start, so rate() and alerts work before the first failure.
    for (const result of RESULTS) this.reconcileTotal.inc({ controller, result }, 0);
    for (const counter of [this.reconcileErrors, this.terminalErrors, this.reconcilePanics])
      counter.inc(labels, 0);
    return {
      result: (result, seconds) => {
        this.reconcileTotal.inc({ controller, result });
        this.reconcileTime.observe(labels, seconds);
        if (result === "error" || result === "panic" || result === "terminal_error")
          this.reconcileErrors.inc(labels);
        if (result === "terminal_error") this.terminalErrors.inc(labels);
        if (result === "panic") this.reconcilePanics.inc(labels);
      },
      activeWorkers: (delta) => this.activeWorkersGauge.inc(labels, delta),
    };
  }

  setLeader(name: string, leading: boolean): void {
    this.leaderStatus.set({ name }, leading ? 1 : 0);
  }
}
