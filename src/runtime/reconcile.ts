// The reconcile contract. A Request names an object and nothing else: the reconciler reads
// the present state itself (level-triggered) and never asks what event woke it. Outcomes:
//   return done()              finished; the item's failure history is forgotten
//   return requeueAfter(ms)    finished for now; look again after ms (e.g. a deadline)
//   return requeue()           look again soon, with the per-item rate-limited backoff
//   throw an Error             failed; retried with the rate-limited backoff (5 ms .. 1000 s)
//   throw a TerminalError      failed in a way retrying cannot fix; logged, counted, not retried
// A thrown programming error (TypeError, ReferenceError, RangeError, or a non-Error value)
// is this runtime's "panic": recovered, logged with its stack, counted in
// controller_runtime_reconcile_panics_total, and retried like an error.
import type { Logger } from "pino";
import type { ObjectName } from "./resource.js";

export type Request = ObjectName;

export type Result = { done: true } | { requeueAfter: number } | { requeue: true };

export const done = (): Result => ({ done: true });
export const requeueAfter = (ms: number): Result => ({ requeueAfter: ms });
export const requeue = (): Result => ({ requeue: true });

export interface ReconcileContext {
  /** Carries controller, object and reconcileID. */
  log: Logger;
  reconcileID: string;
  /** Aborted when the manager gives up waiting for this reconcile during shutdown. */
  signal: AbortSignal;
}

export interface Reconciler {
  reconcile(req: Request, ctx: ReconcileContext): Promise<Result>;
}

/** An error that retrying cannot fix (invalid spec the schema could not catch, say). */
export class TerminalError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TerminalError";
  }
}

export function isPanic(err: unknown): boolean {
  // undici reports a failed connection as TypeError("fetch failed"): an outage, not a bug.
  if (err instanceof TypeError && err.message === "fetch failed") return false;
  return (
    !(err instanceof Error) ||
    err instanceof TypeError ||
    err instanceof ReferenceError ||
    err instanceof RangeError ||
    err instanceof SyntaxError
  );
}
