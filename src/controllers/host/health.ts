// Host readiness from its agent's heartbeat Lease (pure), as the node lifecycle controller
// judges a Node by its kubelet's Lease: no Lease yet → Unknown; renewed within the grace
// period → True; older → Unknown (HeartbeatExpired), and the host's desktops are lost.
import type { ConditionStatus } from "../../api/types.generated.js";
import { HostNodeReasons as R } from "../../api/conditions.js";
import type { LeaseSpec } from "../context.js";

export interface Readiness {
  status: ConditionStatus;
  reason: string;
  message: string;
  /** When the verdict would change without any new event (the heartbeat expiring). */
  recheckInMs?: number;
}

export function hostReadiness(lease: LeaseSpec | undefined, now: number, graceMs: number): Readiness {
  if (!lease?.renewTime)
    return { status: "Unknown", reason: R.AwaitingAgent, message: "no agent has reported for this host yet" };
  const renewed = Date.parse(lease.renewTime);
  const expires = renewed + graceMs;
  const agent = lease.holderIdentity ?? "the agent";
  if (now < expires)
    return {
      status: "True",
      reason: R.AgentReady,
      message: `${agent} is posting heartbeats`,
      recheckInMs: expires - now + 100,
    };
  return {
    status: "Unknown",
    reason: R.HeartbeatExpired,
    message: `${agent} stopped posting heartbeats: last at ${lease.renewTime}, grace period ${Math.round(graceMs / 1000)}s`,
  };
}
