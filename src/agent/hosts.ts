// The hosts this agent was told to serve, and which of them it serves now. A host is served
// once its heartbeat Lease is held (one agent per host): then it is registered and gets its
// adapter. A host whose Lease another agent holds waits; one that cannot be served (another
// hypervisor type, an unusable spec.hypervisor block) is refused and reported once.
import type { HostNode } from "../api/index.js";
import type { EventSink } from "../controllers/shared/events.js";
import type {
  AdapterEvent,
  AdapterRegistry,
  HypervisorAdapter,
  HypervisorType,
} from "../hypervisors/index.js";
import { AdapterError } from "../hypervisors/index.js";
import type { Cached, Logger } from "../runtime/index.js";
import type { AgentHost } from "./options.js";
import { HostRefusedError } from "./registration.js";

export interface ServedHost {
  readonly name: string;
  readonly adapter: HypervisorAdapter;
  /** The HostNode as registered: the object Events about the host are recorded on. */
  readonly node: HostNode | Cached<HostNode>;
}

type Entry =
  | { readonly phase: "waiting" }
  | { readonly phase: "serving"; readonly host: ServedHost; readonly unsubscribe: () => void }
  | { readonly phase: "refused"; readonly reason: string };

export interface HostTableDeps {
  readonly hosts: readonly AgentHost[];
  readonly type: HypervisorType;
  readonly registry: AdapterRegistry;
  readonly register: (host: AgentHost) => Promise<HostNode | Cached<HostNode>>;
  readonly events: EventSink;
  readonly log: Logger;
  /** An adapter hint for a served host; must be cheap and must not throw. */
  readonly onChange: (host: string, event: AdapterEvent) => void;
  /** A host has just started to be served. */
  readonly onServing: (host: string) => void;
}

export class HostTable {
  private readonly entries = new Map<string, Entry>();
  private readonly configs = new Map<string, AgentHost>();
  private readonly starting = new Map<string, Promise<void>>();

  constructor(private readonly deps: HostTableDeps) {
    for (const host of deps.hosts) {
      this.configs.set(host.name, host);
      this.entries.set(host.name, { phase: "waiting" });
    }
  }

  /** A host found after the start (HostSource): served from the next heartbeat. False when known. */
  add(host: AgentHost): boolean {
    if (this.configs.has(host.name)) return false;
    this.configs.set(host.name, host);
    this.entries.set(host.name, { phase: "waiting" });
    return true;
  }

  /** Every host this agent was told to serve, refused ones excepted. */
  names(): string[] {
    return [...this.entries].filter(([, e]) => e.phase !== "refused").map(([name]) => name);
  }

  isOurs(name: string): boolean {
    return this.configs.has(name);
  }

  /** Told to serve it, but it cannot be served (see the Warning Event on the HostNode). */
  isRefused(name: string): boolean {
    return this.entries.get(name)?.phase === "refused";
  }

  get(name: string): ServedHost | undefined {
    const entry = this.entries.get(name);
    return entry?.phase === "serving" ? entry.host : undefined;
  }

  serving(): ServedHost[] {
    const served: ServedHost[] = [];
    for (const entry of this.entries.values()) if (entry.phase === "serving") served.push(entry.host);
    return served;
  }

  counts(): Record<Entry["phase"], number> {
    const counts = { waiting: 0, serving: 0, refused: 0 };
    for (const entry of this.entries.values()) counts[entry.phase]++;
    return counts;
  }

  /** Registers the host and makes its adapter, unless already served or refused. Idempotent. */
  ensureServing(name: string): Promise<void> {
    if (this.entries.get(name)?.phase !== "waiting") return Promise.resolve();
    let pending = this.starting.get(name);
    if (pending === undefined) {
      pending = this.start(name).finally(() => this.starting.delete(name));
      this.starting.set(name, pending);
    }
    return pending;
  }

  /** Stops serving (its Lease went to another agent); the VMs stay as they are. */
  async release(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (entry?.phase !== "serving") return;
    this.entries.set(name, { phase: "waiting" });
    await this.close(entry);
  }

  async closeAll(): Promise<void> {
    const entries = [...this.entries.values()];
    for (const name of this.entries.keys()) this.entries.set(name, { phase: "waiting" });
    await Promise.all(entries.map((e) => this.close(e)));
  }

  private async start(name: string): Promise<void> {
    const config = this.configs.get(name) as AgentHost;
    let node: HostNode | Cached<HostNode> | undefined;
    try {
      node = await this.deps.register(config);
      const block = (node.spec.hypervisor as Record<string, unknown>)[this.deps.type];
      const settings = { ...config.block, ...(block as object | undefined), ...config.overrides };
      const adapter = this.deps.registry.create(this.deps.type, { hostName: name, settings });
      const unsubscribe = adapter.onChange((event) => this.deps.onChange(name, event));
      this.entries.set(name, { phase: "serving", host: { name, adapter, node }, unsubscribe });
      this.deps.log.info({ host: name }, "serving host");
      this.deps.onServing(name);
    } catch (err) {
      if (!(err instanceof HostRefusedError || (err instanceof AdapterError && !err.retryable))) {
        this.deps.log.warn({ host: name, err: String(err) }, "could not register host; will retry");
        return;
      }
      const reason = err.reason;
      this.entries.set(name, { phase: "refused", reason });
      this.deps.log.error({ host: name, reason, err: err.message }, "refusing to serve host");
      if (node !== undefined) this.deps.events.event(node, "Warning", reason, err.message);
    }
  }

  private async close(entry: Entry): Promise<void> {
    if (entry.phase !== "serving") return;
    entry.unsubscribe();
    await entry.host.adapter.close().catch((err: unknown) => {
      this.deps.log.warn({ host: entry.host.name, err: String(err) }, "closing adapter failed");
    });
  }
}
