// Host readiness from its agent's heartbeat Lease (pure), as the node lifecycle controller
// judges a Node by its kubelet's Lease: no Lease yet → Unknown (AwaitingAgent); renewed within
// the grace period → True; older → Unknown (HeartbeatExpired), and the host's desktops are lost.
// "Renewed" is when this controller saw renewTime change (renewals.ts), on its own clock: the
// agent's clock is never compared with the controller's.
import type { ConditionStatus } from "../../api/types.generated.js";
import { HostNodeReasons as R } from "../../api/conditions.js";
import type { ObservedRenewal } from "./renewals.js";

export interface Readiness {
  status: ConditionStatus;
  reason: string;
  message: string;
  /** When the verdict would change without any new event (the heartbeat expiring). */
  recheckInMs?: number;
}

export function hostReadiness(renewal: ObservedRenewal | undefined, now: number, graceMs: number): Readiness {
  if (renewal === undefined)
    return { status: "Unknown", reason: R.AwaitingAgent, message: "no agent has reported for this host yet" };
  const expires = renewal.observedAt + graceMs;
  const agent = renewal.holder ?? "the agent";
  if (now < expires)
    return {
      status: "True",
      reason: R.AgentReady,
      message: `${agent} is posting heartbeats`,
      recheckInMs: expires - now + 100,
    };
  const seen = new Date(renewal.observedAt).toISOString().replace(/\.\d{3}Z$/, "Z");
  return {
    status: "Unknown",
    reason: R.HeartbeatExpired,
    message: `${agent} stopped posting heartbeats: last renewal seen at ${seen}, grace period ${Math.round(graceMs / 1000)}s`,
  };
}
