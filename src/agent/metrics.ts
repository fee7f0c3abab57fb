// The agent's own Prometheus metrics, on the runtime's registry (never prom-client's global one).
import { Counter, Gauge } from "prom-client";
import type { RuntimeMetrics } from "../runtime/index.js";

export type LeaseResult = "renewed" | "acquired" | "waiting" | "error";

export interface AgentMetrics {
  lease(result: LeaseResult): void;
  orphansRemoved(count: number): void;
}

/** `hosts` is read at scrape time: how many hosts are waiting, serving or refused. */
export function agentMetrics(runtime: RuntimeMetrics, hosts: () => Record<string, number>): AgentMetrics {
  const registers = [runtime.registry];
  const leases = new Counter({
    name: "griddesk_agent_lease_attempts_total",
    help: "Host heartbeat Lease writes and checks, by result",
    labelNames: ["result"],
    registers,
  });
  const orphans = new Counter({
    name: "griddesk_agent_orphans_removed_total",
    help: "VMs destroyed because no Desktop accounted for them",
    registers,
  });
  new Gauge({
    name: "griddesk_agent_hosts",
    help: "Hosts this agent was told to serve, by state",
    labelNames: ["state"],
    registers,
    collect() {
      for (const [state, n] of Object.entries(hosts())) this.set({ state }, n);
    },
  });
  return {
    lease: (result) => leases.inc({ result }),
    orphansRemoved: (count) => orphans.inc(count),
  };
}
