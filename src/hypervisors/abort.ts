// Waiting with an AbortSignal: the caller may stop waiting without stopping the shared work.
import { AdapterError } from "./errors.js";

export function abortedError(): AdapterError {
  return new AdapterError("Aborted", "the caller stopped waiting");
}

/** Settles with `promise`, or rejects AdapterError Aborted as soon as `signal` fires. */
export function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortedError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortedError());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
