// Session timeouts (pure): which limit, if any, a session has passed, and when to look again.
// The activity signal (status.connected, status.lastActivityTime) is written by a broker.
import type { DesktopPool, DesktopSession, SessionEndReason } from "../../api/types.generated.js";
import type { Cached } from "../../runtime/index.js";

export interface TimeoutVerdict {
  /** Set when a limit has passed. */
  end?: { reason: SessionEndReason; message: string };
  /** Milliseconds until the next limit would pass, if any applies. */
  nextCheckMs?: number;
}

/** Parses Go-style durations the schema allows: 1h30m, 45s, 500ms, 2h. */
export function parseDuration(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = "";
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    total += Number(m[1]) * (units[m[2] as string] ?? 0);
    matched += m[0];
  }
  return matched === text ? total : undefined;
}

export function checkTimeouts(
  session: Cached<DesktopSession>,
  pool: Cached<DesktopPool> | undefined,
  now: number,
): TimeoutVerdict {
  const policy = pool?.spec.session;
  const status = session.status;
  if (!policy || !status?.boundAt) return {};
  const limits: { reason: SessionEndReason; at: number; message: string }[] = [];
  const maxDuration = parseDuration(policy.maxDuration);
  if (maxDuration !== undefined)
    limits.push({
      reason: "MaxDurationExceeded",
      at: Date.parse(status.boundAt) + maxDuration,
      message: `the session reached the pool's maximum duration of ${policy.maxDuration}`,
    });
  const lastActivity = Date.parse(status.lastActivityTime ?? status.readyAt ?? status.boundAt);
  const idle = parseDuration(policy.idleTimeout);
  if (idle !== undefined && status.lastActivityTime)
    limits.push({
      reason: "IdleTimeout",
      at: lastActivity + idle,
      message: `no user input for ${policy.idleTimeout} (idleTimeout)`,
    });
  const disconnected = parseDuration(policy.disconnectedTimeout);
  if (disconnected !== undefined && status.connected === false)
    limits.push({
      reason: "DisconnectedTimeout",
      at: lastActivity + disconnected,
      message: `the client stayed disconnected for ${policy.disconnectedTimeout} (disconnectedTimeout)`,
    });
  if (limits.length === 0) return {};
  limits.sort((a, b) => a.at - b.at);
  const first = limits[0] as (typeof limits)[number];
  if (first.at <= now) return { end: { reason: first.reason, message: first.message } };
  return { nextCheckMs: first.at - now };
}
