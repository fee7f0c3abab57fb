// The libvirt adapter's registry entry. Storage (image cache, locks) is shared per storage
// directory across the adapters the factory makes, so an adapter re-made for a host (after the
// agent lost and regained its Lease) joins the pulls already in flight.
import { systemClock, type Clock } from "../clock.js";
import type { AdapterFactory } from "../registry.js";
import { LibvirtAdapter } from "./adapter.js";
import { parseLibvirtConfig } from "./config.js";
import { HostStorage } from "./storage.js";
import type { SourcePolicy } from "../../volumes/index.js";

export { LibvirtAdapter, type LibvirtAdapterOptions } from "./adapter.js";
export {
  DOMAIN_TYPES,
  LOCAL_LIBVIRT_URIS,
  parseLibvirtConfig,
  type DomainType,
  type LibvirtHostConfig,
} from "./config.js";
export { domainName, domainXml, METADATA_NS, parseDomainOwner, type KernelBoot } from "./domain-xml.js";
export { LIBVIRT_ADAPTER_VERSION } from "./probe.js";
export { HostStorage } from "./storage.js";
export { Virsh } from "./virsh.js";

export interface LibvirtFactoryOptions {
  readonly clock?: Clock;
  /** Storage directory → its shared state; defaults to a map owned by the factory. */
  readonly storages?: Map<string, HostStorage>;
  /** libvirt URIs beyond the local ones that the agent's admin allowed (its --libvirt-uri). */
  readonly allowedUris?: readonly string[];
  /** The admin's source policy: what images and boot files may be opened, and fetch bounds. */
  readonly sources: SourcePolicy;
}

export function libvirtAdapterFactory(options: LibvirtFactoryOptions): AdapterFactory {
  const clock = options.clock ?? systemClock;
  const storages = options.storages ?? new Map<string, HostStorage>();
  return ({ hostName, settings }) => {
    const config = parseLibvirtConfig(hostName, settings, options.allowedUris);
    let storage = storages.get(config.storagePath);
    if (storage === undefined) {
      storage = new HostStorage(config.storagePath, config, clock, options.sources);
      storages.set(config.storagePath, storage);
    }
    return new LibvirtAdapter({ hostName, config, storage, clock });
  };
}
