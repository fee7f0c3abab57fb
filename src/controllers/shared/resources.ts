// The resources griddesk's controllers and agents read and write, as the runtime addresses them.
import { GROUP, Plurals, VERSION } from "../../api/constants.js";
import type { ResourceRef } from "../../runtime/index.js";

const griddesk = (plural: string, namespaced: boolean): ResourceRef => ({
  group: GROUP,
  version: VERSION,
  plural,
  namespaced,
});

export const Resources = {
  HostNode: griddesk(Plurals.HostNode, false),
  DesktopPool: griddesk(Plurals.DesktopPool, true),
  Desktop: griddesk(Plurals.Desktop, true),
  DesktopSession: griddesk(Plurals.DesktopSession, true),
  DesktopProfile: griddesk(Plurals.DesktopProfile, true),
  Lease: { group: "coordination.k8s.io", version: "v1", plural: "leases", namespaced: true },
  Node: { group: "", version: "v1", plural: "nodes", namespaced: false },
  Namespace: { group: "", version: "v1", plural: "namespaces", namespaced: false },
  Secret: { group: "", version: "v1", plural: "secrets", namespaced: true },
} as const satisfies Record<string, ResourceRef>;

/** Where host heartbeat Leases and the controller's leader-election Lease live by default. */
export const DEFAULT_SYSTEM_NAMESPACE = "griddesk-system";

/** A host's heartbeat Lease is named after it, with a prefix so it never clashes with others. */
export const hostLeaseName = (host: string): string => `host-${host}`;
export const hostOfLease = (lease: string): string | undefined =>
  lease.startsWith("host-") ? lease.slice("host-".length) : undefined;
