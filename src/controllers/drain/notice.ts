// What a user on a draining host is told, and when (pure). A notice goes out when the drain
// starts, then reminders at half time, with a tenth of the grace period left and one minute
// before the deadline (when that is a separate moment, and never with less than 10 s left). A
// notice is a function of the drain and the stage it is in, never of the moment it was
// computed, so writing it is idempotent: the host reconciler compares it with the session's
// status.notice and writes only changes.
import { toKubeTime } from "../../api/time.js";
import type { DrainRequest, SessionNotice } from "../../api/types.generated.js";
import type { DeepReadonly } from "../../runtime/index.js";

export interface DrainWindow {
  /** Milliseconds since the epoch. */
  startedAt: number;
  deadline: number;
}

export type NoticeReason = "DrainNotice" | "DrainReminder";

export interface StagedNotice {
  notice: SessionNotice;
  /** 0: the first notice; n: after the n-th reminder. */
  stage: number;
  reason: NoticeReason;
}

const MINUTE = 60_000;
/** A reminder with less time left than this gives nobody time to act: none is sent. */
const MIN_LEAD_MS = 10_000;
/** Reminders closer together than this are one reminder. */
const MIN_GAP_MS = 5_000;

/** Remaining time at each reminder, largest first: half, a tenth, one minute (if within the second half). */
export function reminderLeads(w: DrainWindow): number[] {
  const total = w.deadline - w.startedAt;
  if (total <= 0) return [];
  const leads = [total / 2, total / 10, MINUTE]
    .map((ms) => Math.round(ms / 1000) * 1000)
    .filter((ms) => ms >= MIN_LEAD_MS && ms <= total / 2)
    .sort((a, b) => b - a);
  return leads.filter((ms, i) => i === 0 || (leads[i - 1] as number) - ms >= MIN_GAP_MS);
}

/** The instants at which reminders go out, in order. */
export function reminderTimes(w: DrainWindow): number[] {
  return reminderLeads(w).map((lead) => w.deadline - lead);
}

/** How many reminders are due by `now`. */
export function noticeStage(w: DrainWindow, now: number): number {
  return reminderTimes(w).filter((t) => t <= now).length;
}

/** The next reminder after `now`, else the deadline if still ahead, else undefined. */
export function nextDrainEvent(w: DrainWindow, now: number): number | undefined {
  return [...reminderTimes(w), w.deadline].find((t) => t > now);
}

/** The notice a user on the host should see at `now`. */
export function noticeFor(request: DeepReadonly<DrainRequest>, w: DrainWindow, now: number): StagedNotice {
  const force = request.forceLogoff !== false;
  const leads = reminderLeads(w);
  const stage = noticeStage(w, now);
  const at = toKubeTime(new Date(w.deadline));
  const lead = stage > 0 ? leads[stage - 1] : undefined;
  const left = lead !== undefined ? ` (${formatDuration(lead)} left)` : "";
  const base = request.message.trim();
  let text: string;
  if (force) text = `${base} You will be logged off at ${at}${left}; please save your work.`;
  else if (now < w.deadline) text = `${base} Please log off by ${at}${left}.`;
  else text = `${base} The maintenance deadline ${at} has passed: please log off now.`;
  const reminder = stage > 0 || (!force && now >= w.deadline);
  return {
    notice: force
      ? { message: reminder ? `Reminder: ${text}` : text, deadline: at }
      : { message: reminder ? `Reminder: ${text}` : text },
    stage,
    reason: reminder ? "DrainReminder" : "DrainNotice",
  };
}

/** 1h30m, 2m5s, 45s: as Go prints durations, whole seconds. */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const out = `${h ? `${h}h` : ""}${m ? `${m}m` : ""}${s || (!h && !m) ? `${s}s` : ""}`;
  return out;
}

/** Whether two notices say the same (a missing deadline equals an absent one). */
export function sameNotice(
  a: DeepReadonly<SessionNotice> | undefined | null,
  b: DeepReadonly<SessionNotice> | undefined | null,
): boolean {
  if (!a || !b) return !a && !b;
  return a.message === b.message && (a.deadline ?? undefined) === (b.deadline ?? undefined);
}
