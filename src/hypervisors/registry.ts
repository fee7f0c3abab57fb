// Adapters registered by HostNode hypervisor type. An agent registers the factories it was
// built with; a HostNode naming anything else is refused with a message that lists the choices.
import { HYPERVISOR_TYPES, type HypervisorAdapter, type HypervisorType } from "./adapter.js";
import { AdapterError } from "./errors.js";

/** One HostNode as an adapter factory sees it. */
export interface HostConfig {
  /** The HostNode's name. */
  readonly hostName: string;
  /** The rest of the HostNode's `spec.hypervisor` block (adapter-specific, validated by the factory). */
  readonly settings: Readonly<Record<string, unknown>>;
}

/**
 * Makes the adapter for one host. Synchronous and free of I/O: it validates `settings`
 * (throwing AdapterError InvalidHostConfig that names the field) and connects lazily.
 */
export type AdapterFactory = (host: HostConfig) => HypervisorAdapter;

export class AdapterRegistry {
  private readonly factories = new Map<HypervisorType, AdapterFactory>();

  /** Registers a factory; registering one type twice is a programming error and throws. */
  register(type: HypervisorType, factory: AdapterFactory): this {
    if (!HYPERVISOR_TYPES.includes(type)) {
      throw new Error(
        `cannot register unknown hypervisor type "${type}"; known types: ${HYPERVISOR_TYPES.join(", ")}`,
      );
    }
    if (this.factories.has(type)) throw new Error(`hypervisor type "${type}" is already registered`);
    this.factories.set(type, factory);
    return this;
  }

  /** The types this registry can create, sorted. */
  types(): HypervisorType[] {
    return [...this.factories.keys()].sort();
  }

  has(type: string): boolean {
    return this.factories.has(type as HypervisorType);
  }

  /** Creates the adapter for a host; throws AdapterError UnknownHypervisorType for an unknown key. */
  create(type: string, host: HostConfig): HypervisorAdapter {
    const factory = this.factories.get(type as HypervisorType);
    if (factory !== undefined) return factory(host);
    const available = this.types().join(", ") || "none";
    const message = HYPERVISOR_TYPES.includes(type as HypervisorType)
      ? `hypervisor type "${type}" of host "${host.hostName}" is not available in this agent (available: ${available})`
      : `unknown hypervisor type "${type}" of host "${host.hostName}"; known types: ${HYPERVISOR_TYPES.join(", ")} (available in this agent: ${available})`;
    throw new AdapterError("UnknownHypervisorType", message);
  }
}
