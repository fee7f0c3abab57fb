// Finds and destroys orphan VMs on every served host: once the Desktop cache has synced, then
// periodically. A candidate (a VM no cached Desktop accounts for) is destroyed only after a
// fresh read confirms that no Desktop with its uid is placed on the host, so a stale cache, or
// a Desktop still labelled for another agent, can never cost a user their desktop.
import type { Desktop } from "../api/index.js";
import type { EventSink } from "../controllers/shared/events.js";
import type { VmStatus } from "../hypervisors/index.js";
import type { Logger, ObjectClient } from "../runtime/index.js";
import type { HostTable, ServedHost } from "./hosts.js";
import { forEachLimit } from "./loop.js";
import type { AgentMetrics } from "./metrics.js";
import { describeOrphans, selectOrphans, type DesktopLookup } from "./orphans.js";

export interface OrphanCollectorDeps {
  readonly hosts: HostTable;
  readonly lookup: DesktopLookup;
  readonly client: ObjectClient<Desktop>;
  readonly events: EventSink;
  readonly log: Logger;
  readonly metrics: AgentMetrics;
  readonly concurrency?: number;
}

export class OrphanCollector {
  constructor(private readonly deps: OrphanCollectorDeps) {}

  /** One pass over every served host; a failing host is logged and the others go on. */
  async collectAll(): Promise<void> {
    await forEachLimit(this.deps.hosts.serving(), this.deps.concurrency ?? 8, async (host) => {
      try {
        await this.collect(host);
      } catch (err) {
        this.deps.log.warn({ host: host.name, err: String(err) }, "orphan collection failed");
      }
    });
  }

  /** Destroys the host's orphans; returns them. */
  async collect(host: ServedHost): Promise<VmStatus[]> {
    const candidates = selectOrphans(host.name, await host.adapter.list(), this.deps.lookup);
    const orphans: VmStatus[] = [];
    for (const vm of candidates) if (await this.confirmed(vm, host.name)) orphans.push(vm);
    for (const vm of orphans) await host.adapter.destroy(vm.id);
    if (orphans.length === 0) return orphans;
    const what = describeOrphans(orphans);
    this.deps.metrics.orphansRemoved(orphans.length);
    this.deps.log.info({ host: host.name, count: orphans.length, orphans: what }, "orphan VMs removed");
    this.deps.events.event(
      host.node,
      "Normal",
      "OrphanRemoved",
      `removed ${orphans.length} VM(s) that no Desktop accounts for: ${what}`,
    );
    return orphans;
  }

  private async confirmed(vm: VmStatus, host: string): Promise<boolean> {
    const live = await this.deps.client.tryGet({ namespace: vm.id.namespace, name: vm.id.name });
    const owned = live?.metadata.uid === vm.id.uid && live.spec.hostRef === host;
    if (owned)
      this.deps.log.warn({ host, desktop: vm.id }, "VM's Desktop exists but is not in this agent's cache");
    return !owned;
  }
}
