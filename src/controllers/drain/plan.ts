// What a host's drain needs now, decided from the cache alone (pure; table-tested). The host
// reconciler is the thin shell that carries the plan out: it deletes idle desktops, writes
// notices, records status.drain and the Draining/Drained conditions, and requeues at nextAt.
// All drain state is in the API: the start time is recorded once in status.drain.startedAt,
// and the deadline is recomputed from it and spec.drain on every pass, so a restarted operator
// carries on with the same deadline.
import { HostNodeReasons as R } from "../../api/conditions.js";
import { toKubeTime } from "../../api/time.js";
import type {
  Desktop,
  DesktopSession,
  DrainPhase,
  DrainRequest,
  DrainStatus,
  HostNode,
  SessionNotice,
} from "../../api/types.generated.js";
import type { Cached, DeepReadonly } from "../../runtime/index.js";
import { parseDuration } from "../session/timeouts.js";
import { nextDrainEvent, noticeFor, sameNotice, type DrainWindow, type NoticeReason } from "./notice.js";

export interface SessionOnHost {
  desktop: Cached<Desktop>;
  /** The session the desktop is bound to, when the cache has it (uid checked). */
  session?: Cached<DesktopSession>;
}

export interface DrainInput {
  host: Cached<HostNode>;
  /** Every desktop placed on the host, terminating ones included. */
  desktops: readonly SessionOnHost[];
  /** When the drain started (recorded or just admitted); undefined while it waits for a budget. */
  startedAt?: string;
  /** Why the drain waits, when startedAt is undefined and a drain is requested. */
  waiting?: string;
  now: number;
}

export interface ConditionPlan {
  status: "True" | "False";
  reason: string;
  message: string;
}

export interface NoticeWrite {
  session: Cached<DesktopSession>;
  desktop: Cached<Desktop>;
  notice: SessionNotice;
  reason: NoticeReason;
}

export interface DrainPlan {
  /** Desired status.drain; undefined removes it. */
  status?: DrainStatus;
  draining: ConditionPlan;
  drained: ConditionPlan;
  /** Unbound desktops to delete now (pools re-create them elsewhere). */
  deleteIdle: Cached<Desktop>[];
  /** Notices to write (first notice or a reminder). */
  notify: NoticeWrite[];
  /** Sessions whose notice no longer applies (the drain was withdrawn or has not started). */
  withdraw: SessionOnHost[];
  /** When to look again (a reminder or the deadline), ms since the epoch. */
  nextAt?: number;
}

/** The drain's window: from its recorded start to spec.drain.deadline, or start + gracePeriod. */
export function drainWindow(request: DeepReadonly<DrainRequest>, startedAt: string): DrainWindow {
  const start = Date.parse(startedAt);
  const absolute = request.deadline ? Date.parse(request.deadline) : NaN;
  const grace = parseDuration(request.gracePeriod) ?? 0;
  return { startedAt: start, deadline: Number.isNaN(absolute) ? start + grace : absolute };
}

const live = (s: SessionOnHost): s is Required<SessionOnHost> =>
  !!s.session &&
  !s.desktop.metadata.deletionTimestamp &&
  !s.session.metadata.deletionTimestamp &&
  s.session.status?.phase !== "Ended" &&
  s.session.status?.phase !== "Failed";

export function planDrain(input: DrainInput): DrainPlan {
  const { host, desktops, now } = input;
  const request = host.spec.drain;
  const noticed = desktops.filter((d) => !!d.session?.status?.notice);
  if (!request) return idle(host, noticed);
  if (input.startedAt === undefined) {
    const message = input.waiting ?? "waiting for the pools' maintenance budgets";
    const waiting: ConditionPlan = { status: "False", reason: R.WaitingForBudget, message };
    return {
      status: { phase: "Pending", sessionsLeft: countSessions(desktops) },
      draining: waiting,
      drained: waiting,
      deleteIdle: [],
      notify: [],
      withdraw: noticed,
      nextAt: undefined,
    };
  }
  const window = drainWindow(request, input.startedAt);
  const force = request.forceLogoff !== false;
  const deleteIdle = desktops
    .map((d) => d.desktop)
    .filter((d) => !d.spec.sessionRef && !d.metadata.deletionTimestamp);
  const notify: NoticeWrite[] = [];
  for (const s of desktops.filter(live)) {
    const staged = noticeFor(request, window, now);
    if (!sameNotice(s.session.status?.notice, staged.notice))
      notify.push({ session: s.session, desktop: s.desktop, notice: staged.notice, reason: staged.reason });
  }
  const sessionsLeft = countSessions(desktops);
  const remaining = desktops.length;
  const passed = now >= window.deadline;
  const at = toKubeTime(new Date(window.deadline));
  let phase: DrainPhase = "Draining";
  let draining: ConditionPlan;
  if (remaining === 0) {
    phase = "Drained";
    draining = { status: "False", reason: R.DrainComplete, message: "no desktops are left on the host" };
  } else if (passed && force && sessionsLeft > 0) {
    phase = "ForcingLogoff";
    draining = {
      status: "True",
      reason: R.ForcingLogoff,
      message: `the deadline ${at} passed: logging off ${sessionsLeft} remaining session(s)`,
    };
  } else if (passed && sessionsLeft > 0) {
    draining = {
      status: "True",
      reason: R.DeadlinePassed,
      message: `the deadline ${at} passed; forceLogoff is false, so ${sessionsLeft} session(s) stay until their users log off`,
    };
  } else {
    draining = {
      status: "True",
      reason: R.WaitingForLogoff,
      message: `${sessionsLeft} session(s) left; ${force ? "logoff is forced" : "users are asked to log off"} at ${at}`,
    };
  }
  const drained: ConditionPlan =
    remaining === 0
      ? { status: "True", reason: R.DrainComplete, message: "no desktops are left on the host" }
      : {
          status: "False",
          reason: R.DesktopsRemaining,
          message: `${remaining} desktop(s) left, ${sessionsLeft} of them in use`,
        };
  return {
    status: { startedAt: input.startedAt, deadline: at, sessionsLeft, phase },
    draining,
    drained,
    deleteIdle,
    notify,
    withdraw: [],
    nextAt: remaining === 0 ? undefined : nextDrainEvent(window, now),
  };
}

/** No drain requested: clear leftovers of a withdrawn one. */
function idle(host: Cached<HostNode>, noticed: SessionOnHost[]): DrainPlan {
  const previous = host.status?.drain;
  const prevReason = host.status?.conditions?.find((c) => c.type === "Draining")?.reason;
  const aborted =
    (previous !== undefined && previous.phase !== "Drained" && previous.phase !== "Pending") ||
    (previous === undefined && prevReason === R.DrainAborted);
  const none = { status: "False" as const, reason: R.NoDrainRequested, message: "spec.drain is not set" };
  return {
    status: undefined,
    draining: aborted
      ? {
          status: "False",
          reason: R.DrainAborted,
          message: "spec.drain was withdrawn before the drain finished; users were told it is called off",
        }
      : none,
    drained: none,
    deleteIdle: [],
    notify: [],
    withdraw: noticed,
  };
}

function countSessions(desktops: readonly SessionOnHost[]): number {
  return desktops.filter((d) => d.desktop.spec.sessionRef && !d.desktop.metadata.deletionTimestamp).length;
}
