// griddesk's own metrics, beside the runtime's controller-runtime-named ones. Gauges are
// computed from the informer caches when Prometheus scrapes, so they cost nothing between
// scrapes and can never drift from what the controller sees.
import { Gauge, Histogram, type Registry } from "prom-client";
import type { Desktop, DesktopSession, HostNode } from "../../api/types.generated.js";
import type { Informer } from "../../runtime/index.js";
import { desktopResources, holdsResources } from "./hostview.js";

export interface MetricSources {
  desktops: Informer<Desktop>;
  sessions: Informer<DesktopSession>;
  hosts: Informer<HostNode>;
}

export class GriddeskMetrics {
  /** Seconds from a DesktopSession's creation to its endpoint being published. */
  readonly logonDuration: Histogram<"pool">;

  constructor(registry: Registry, sources?: MetricSources) {
    const registers = [registry];
    this.logonDuration = new Histogram({
      name: "griddesk_logon_duration_seconds",
      help: "Time from a DesktopSession's creation to its endpoint being published",
      labelNames: ["pool"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
      registers,
    });
    if (!sources) return;
    new Gauge({
      name: "griddesk_desktops",
      help: "Desktops by namespace, pool and phase",
      labelNames: ["namespace", "pool", "phase"],
      registers,
      collect() {
        this.reset();
        for (const d of sources.desktops.list())
          this.inc({
            namespace: d.metadata.namespace,
            pool: d.spec.poolRef,
            phase: d.status?.phase ?? "Pending",
          });
      },
    });
    new Gauge({
      name: "griddesk_sessions",
      help: "DesktopSessions by namespace, pool and phase",
      labelNames: ["namespace", "pool", "phase"],
      registers,
      collect() {
        this.reset();
        for (const s of sources.sessions.list())
          this.inc({
            namespace: s.metadata.namespace,
            pool: s.spec.poolRef,
            phase: s.status?.phase ?? "Pending",
          });
      },
    });
    new Gauge({
      name: "griddesk_host_allocated",
      help: "Resources allocated to desktops on each host (cpu in cores, memory and disk in bytes)",
      labelNames: ["host", "resource"],
      registers,
      collect() {
        this.reset();
        const sums = new Map<string, { cpu: number; memory: number; disk: number; desktops: number }>();
        for (const h of sources.hosts.list())
          sums.set(h.metadata.name, { cpu: 0, memory: 0, disk: 0, desktops: 0 });
        for (const d of sources.desktops.list()) {
          const sum = d.spec.hostRef ? sums.get(d.spec.hostRef) : undefined;
          if (!sum || !holdsResources(d)) continue;
          const r = desktopResources(d.spec.resources);
          sum.cpu += r.cpuMilli / 1000;
          sum.memory += r.memoryBytes;
          sum.disk += r.diskBytes;
          sum.desktops++;
        }
        for (const [host, sum] of sums)
          for (const [resource, value] of Object.entries(sum)) this.set({ host, resource }, value);
      },
    });
  }
}
