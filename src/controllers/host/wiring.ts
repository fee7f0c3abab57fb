// The controller's host-side controllers and their watches: the HostNode reconciler (health,
// allocation, cordon and drain) and the Node cordon mirror (optional). Called by startController.
import type { HostNode } from "../../api/types.generated.js";
import type { Informer, Manager, Request } from "../../runtime/index.js";
import type { ControllerContext } from "../context.js";
import { Resources, hostOfLease } from "../shared/resources.js";
import { hostChangeMatters } from "../watches.js";
import { BY_NODE_NAME, NodeMirrorReconciler, nodeNameIndexer, type NodeObject } from "./node-mirror.js";
import { heartbeatEvents } from "./heartbeats.js";
import { HostReconciler } from "./reconciler.js";

/** How long desktop changes gather before their host is reconciled (see the watch below). */
const HOST_ROLLUP_MS = 1_000;

export function addHostControllers(
  manager: Manager,
  ctx: ControllerContext,
  opts: { workers: number; nodeMirror: boolean },
): void {
  const { workers } = opts;
  const { informers } = ctx;
  const hosts = manager.addController({ name: "hostnode", reconciler: new HostReconciler(ctx), workers });
  hosts.watch(informers.hosts);
  // A host's allocation is a roll-up of its desktops: a burst of desktop changes (a logon
  // storm) makes one reconcile and one status write per host per window, not one per change.
  hosts.watch(informers.desktops, (d) => (d.spec.hostRef ? [{ name: d.spec.hostRef }] : []), {
    coalesceMs: HOST_ROLLUP_MS,
  });
  hosts.watch(heartbeatEvents(informers.leases, informers.hosts), (l) => {
    const host = hostOfLease(l.metadata.name);
    return host ? [{ name: host }] : [];
  });
  // A drain waiting for a budget may start when another host returns to service or becomes
  // unavailable, or when a pool's budget or selector changes.
  const waiting = (): void => waitingDrains(informers.hosts).forEach((r) => hosts.enqueue(r));
  informers.hosts.addHandler({
    add: waiting,
    delete: waiting,
    update: (o, n) => void (hostChangeMatters(o, n) && waiting()),
  });
  informers.pools.addHandler({ add: waiting, delete: waiting, update: waiting });

  // The mirror watches every Node in the cluster; a fleet with no HostNode on a Node turns it off.
  if (!opts.nodeMirror) return;
  const nodes = manager.informer<NodeObject>({ resource: Resources.Node });
  informers.hosts.addIndex(BY_NODE_NAME, nodeNameIndexer);
  const mirror = manager.addController({
    name: "node-cordon-mirror",
    reconciler: new NodeMirrorReconciler({
      hosts: informers.hosts,
      nodes,
      client: ctx.clients.hosts,
      events: ctx.events,
    }),
    workers: 2,
  });
  mirror.watch(informers.hosts);
  mirror.watch(nodes, (n) =>
    informers.hosts.byIndex(BY_NODE_NAME, n.metadata.name).map((h) => ({ name: h.metadata.name })),
  );
}

/** Hosts with a drain requested that has not started: a budget may now let them go. */
export function waitingDrains(hosts: Informer<HostNode>): Request[] {
  return hosts
    .list()
    .filter((h) => h.spec.drain && !h.status?.drain?.startedAt)
    .map((h) => ({ name: h.metadata.name }));
}
