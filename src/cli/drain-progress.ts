// The live progress table of `griddesk drain --wait` (pure): one row per host with its drain
// state, sessions left and time to the deadline, and a summary line. What the CLI did itself
// (running the maintenance command, returning the host) overrides what the API says.
import type { HostNode } from "../api/types.generated.js";
import { formatDuration } from "../controllers/drain/notice.js";

export type LocalState = "Maintenance" | "Returned" | "MaintenanceFailed";

export interface ProgressRow {
  host: string;
  state: string;
  sessions: string;
  deadline: string;
  detail: string;
}

/** A host's drain state as the CLI shows it. */
export function hostState(host: HostNode | undefined, local?: LocalState): string {
  if (local) return local;
  if (!host) return "Gone";
  if (!host.spec.drain) return host.status?.drain ? "Aborting" : "NotDraining";
  return host.status?.drain?.phase ?? "Requested";
}

/** Whether a host has nothing more to wait for. */
export function settled(state: string, exec: boolean): boolean {
  if (FAILED.includes(state) || state === "Returned") return true;
  return !exec && state === "Drained";
}

/** End states that are not a completed drain (the request was withdrawn, the host deleted, …). */
export const FAILED = ["MaintenanceFailed", "Gone", "NotDraining"];

export function progressRow(
  name: string,
  host: HostNode | undefined,
  now: number,
  local?: LocalState,
): ProgressRow {
  const state = hostState(host, local);
  const drain = host?.status?.drain;
  const deadline = drain?.deadline ? Date.parse(drain.deadline) : undefined;
  let due = "";
  if (deadline !== undefined && state !== "Drained" && !local)
    due =
      deadline > now
        ? `in ${formatDuration(deadline - now)}`
        : `passed ${formatDuration(now - deadline)} ago`;
  const condition = (type: string) => host?.status?.conditions?.find((c) => c.type === type);
  const detail =
    local === "Maintenance"
      ? "running the maintenance command"
      : local === "Returned"
        ? "maintenance done; back in service"
        : local === "MaintenanceFailed"
          ? "the maintenance command failed; the host stays drained"
          : state === "Requested"
            ? "waiting for the controller to take up the request"
            : (condition("Draining")?.message ?? "");
  return {
    host: name,
    state,
    sessions: drain?.sessionsLeft !== undefined && !local ? String(drain.sessionsLeft) : "",
    deadline: due,
    detail,
  };
}

export function summary(rows: readonly ProgressRow[]): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
  const parts = [...counts.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([s, n]) => `${n} ${s}`);
  const sessions = rows.reduce((sum, r) => sum + (Number(r.sessions) || 0), 0);
  return `${rows.length} host(s): ${parts.join(", ")}; ${sessions} session(s) left`;
}

export function renderTable(rows: readonly ProgressRow[], width = 160): string[] {
  const header: ProgressRow = {
    host: "HOST",
    state: "STATE",
    sessions: "SESSIONS",
    deadline: "DEADLINE",
    detail: "DETAIL",
  };
  const all = [header, ...rows];
  const keys = ["host", "state", "sessions", "deadline"] as const;
  const widths = keys.map((k) => Math.max(...all.map((r) => r[k].length)));
  return all.map((r) => {
    const line = [...keys.map((k, i) => r[k].padEnd(widths[i] ?? 0)), r.detail].join("  ").trimEnd();
    return line.length > width ? `${line.slice(0, width - 1)}…` : line;
  });
}
