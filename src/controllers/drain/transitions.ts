// The Events a drain's progress is announced with on its HostNode (pure): one per transition of
// status.drain.phase, computed from the status before and after a reconcile's write.
import type { DrainRequest, DrainStatus } from "../../api/types.generated.js";
import type { DeepReadonly } from "../../runtime/index.js";

export interface HostEvent {
  type: "Normal" | "Warning";
  reason: string;
  message: string;
}

export function drainTransition(
  before: DeepReadonly<DrainStatus> | undefined,
  after: DeepReadonly<DrainStatus> | undefined,
  request: DeepReadonly<DrainRequest> | undefined,
  waiting?: string,
): HostEvent | undefined {
  const was = before?.phase;
  const now = after?.phase;
  if (was === now) return undefined;
  const why = request?.reason ? ` (${request.reason})` : "";
  switch (now) {
    case undefined:
      if (was === "Pending")
        return {
          type: "Normal",
          reason: "DrainAborted",
          message: "the drain request was withdrawn before it started",
        };
      return was === "Drained"
        ? {
            type: "Normal",
            reason: "DrainEnded",
            message: "spec.drain was removed: the host is back in service",
          }
        : {
            type: "Normal",
            reason: "DrainAborted",
            message: "spec.drain was withdrawn before the drain finished; notices were withdrawn",
          };
    case "Pending":
      return {
        type: "Normal",
        reason: "WaitingForBudget",
        message: `drain requested${why}; ${waiting ?? ""}`.trim(),
      };
    case "Draining":
      return was === undefined || was === "Pending"
        ? {
            type: "Normal",
            reason: "DrainStarted",
            message: `drain started${why}: ${after?.sessionsLeft ?? 0} session(s) to end by ${after?.deadline}`,
          }
        : undefined;
    case "ForcingLogoff":
      return {
        type: "Warning",
        reason: "ForcingLogoff",
        message: `the deadline ${after?.deadline} passed: logging off ${after?.sessionsLeft ?? 0} session(s)`,
      };
    case "Drained":
      return { type: "Normal", reason: "Drained", message: `no desktops are left on the host${why}` };
  }
}
