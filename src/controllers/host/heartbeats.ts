// Which heartbeat Lease events the HostNode reconciler needs. A renewal of a host that is
// already Ready changes nothing: its last reconcile was requeued for the moment the heartbeat
// would expire, and reads the newest renewal from the cache then. Reconciling every host on
// every renewal instead cost one reconcile per host per renew interval (100/s for 1,000 hosts
// renewing every 10 s) with nothing to do. Kubernetes' node lifecycle controller likewise
// checks node leases on a period rather than on each renewal.
import { HostNodeConditions, isConditionTrue } from "../../api/conditions.js";
import type { HostNode } from "../../api/types.generated.js";
import type { Cached, EventHandler, EventSource, Informer, KubeObject } from "../../runtime/index.js";
import type { LeaseSpec } from "../context.js";
import { hostOfLease } from "../shared/resources.js";

type Lease = KubeObject & { spec?: LeaseSpec };

/** Whether a Lease update can change its host's readiness. */
export function heartbeatMatters(
  o: Cached<Lease>,
  n: Cached<Lease>,
  host: Cached<HostNode> | undefined,
): boolean {
  if (o.spec?.holderIdentity !== n.spec?.holderIdentity) return true;
  if (o.spec?.leaseDurationSeconds !== n.spec?.leaseDurationSeconds) return true;
  return !isConditionTrue(host?.status?.conditions, HostNodeConditions.Ready); // a renewal brings a host that is not Ready back
}

/** The Lease informer as an event source that drops renewals of Ready hosts (see above). */
export function heartbeatEvents(leases: Informer<Lease>, hosts: Informer<HostNode>): EventSource<Lease> {
  return {
    addHandler(handler: EventHandler<Lease>): () => void {
      return leases.addHandler({
        add: handler.add,
        delete: handler.delete,
        update: (o, n) => {
          const host = hostOfLease(n.metadata.name);
          if (host !== undefined && !heartbeatMatters(o, n, hosts.get(host))) return;
          handler.update?.(o, n);
        },
      });
    },
  };
}
