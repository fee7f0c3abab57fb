// A HostNode's controller-owned conditions (pure): Ready from the heartbeat, Schedulable from
// readiness, cordon and drain, and Draining/Drained from the drain plan — set on every path.
import {
  CORDONED_BY_NODE_MIRROR,
  Annotations,
  HostNodeConditions as C,
  HostNodeReasons as R,
  setCondition,
} from "../../api/index.js";
import type { Condition, HostNode } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";
import type { DrainPlan } from "../drain/plan.js";
import type { Readiness } from "./health.js";

export function hostConditions(
  host: Cached<HostNode>,
  ready: Readiness,
  drain: DrainPlan,
  now: Date,
): Condition[] {
  const gen = host.metadata.generation;
  const mirrored = host.metadata.annotations?.[Annotations.CordonedBy] === CORDONED_BY_NODE_MIRROR;
  const started = drain.status !== undefined && drain.status.phase !== "Pending";
  const [ok, reason, message] =
    ready.status !== "True"
      ? [false, R.HostNotReady, "the host is not Ready"]
      : started
        ? [
            false,
            R.DrainInProgress,
            drain.status?.phase === "Drained"
              ? "drained: remove spec.drain (griddesk uncordon) to return the host to service"
              : `a drain is in progress (${drain.status?.phase})`,
          ]
        : host.spec.unschedulable
          ? [
              false,
              R.Cordoned,
              mirrored
                ? `spec.unschedulable is true, mirrored from Kubernetes Node ${host.spec.nodeName}`
                : "spec.unschedulable is true",
            ]
          : drain.status?.phase === "Pending"
            ? [true, R.AcceptingDesktops, "new desktops may be placed here until the requested drain starts"]
            : [true, R.AcceptingDesktops, "new desktops may be placed here"];
  let list = setCondition(host.status?.conditions, { type: C.Ready, ...ready }, gen, now);
  list = setCondition(
    list,
    { type: C.Schedulable, status: ok ? "True" : "False", reason, message },
    gen,
    now,
  );
  list = setCondition(list, { type: C.Draining, ...drain.draining }, gen, now);
  list = setCondition(list, { type: C.Drained, ...drain.drained }, gen, now);
  return list;
}
