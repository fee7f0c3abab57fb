// The libvirt agent: one agent per hypervisor host, talking to the host's own libvirtd and
// keeping images and overlays on the host's own disk. The HostNode records the connection URI
// (spec.hypervisor.libvirt.uri); the storage path and VNC address stay agent-side settings.
import path from "node:path";
import { AdapterRegistry, systemClock, type Clock } from "../../hypervisors/index.js";
import { libvirtAdapterFactory, type DomainType } from "../../hypervisors/libvirt/index.js";
import type { SourcePolicy } from "../../volumes/index.js";
import type { AgentHost } from "../options.js";

export interface LibvirtAgentOptions {
  readonly hosts: readonly string[];
  /** libvirt URI; default qemu:///system (the CRD's default for spec.hypervisor.libvirt.uri). */
  readonly uri?: string;
  /** Storage directory; with several hosts, each gets `<storagePath>/<host>`. */
  readonly storagePath?: string;
  readonly vncListen?: string;
  readonly endpointHost?: string;
  readonly imageCacheMinFreeBytes?: number;
  /** `qemu` (TCG) or `kvm`; see LibvirtHostConfig.domainType. */
  readonly domainType?: DomainType;
  readonly clock?: Clock;
  /** The admin's source policy (the agent's flags). */
  readonly sources: SourcePolicy;
}

export interface LibvirtAgentSetup {
  readonly registry: AdapterRegistry;
  readonly hosts: AgentHost[];
}

export function libvirtAgentSetup(opts: LibvirtAgentOptions): LibvirtAgentSetup {
  if (opts.hosts.length === 0) throw new Error("a libvirt agent needs --host-name (or --hosts)");
  const registry = new AdapterRegistry().register(
    "libvirt",
    // The agent's own --libvirt-uri is the admin's choice, so it may name any connection; a
    // HostNode's spec may name only the host's own libvirtd (the CRD and the config say so).
    libvirtAdapterFactory({
      clock: opts.clock ?? systemClock,
      sources: opts.sources,
      ...(opts.uri !== undefined ? { allowedUris: [opts.uri] } : {}),
    }),
  );
  const shared: Record<string, unknown> = {};
  if (opts.uri !== undefined) shared.uri = opts.uri; // the flag wins over the HostNode's spec
  if (opts.vncListen !== undefined) shared.vncListen = opts.vncListen;
  if (opts.endpointHost !== undefined) shared.endpointHost = opts.endpointHost;
  if (opts.imageCacheMinFreeBytes !== undefined) shared.imageCacheMinFreeBytes = opts.imageCacheMinFreeBytes;
  if (opts.domainType !== undefined) shared.domainType = opts.domainType;
  const hosts = opts.hosts.map((name) => {
    const storagePath =
      opts.storagePath === undefined
        ? undefined
        : opts.hosts.length === 1
          ? opts.storagePath
          : path.join(opts.storagePath, name);
    return {
      name,
      block: opts.uri !== undefined ? { uri: opts.uri } : {},
      overrides: { ...shared, ...(storagePath !== undefined ? { storagePath } : {}) },
    };
  });
  return { registry, hosts };
}
