// Typed adapter errors. A closed vocabulary of CamelCase reasons, so a reconciler can copy
// `reason` into a condition and decide from `retryable` whether to back off or give up.

export const ADAPTER_ERROR_REASONS = {
  /** The spec or image ref is malformed (bad sha256, non-positive size, unknown format). */
  InvalidSpec: false,
  /** The HostNode's `spec.hypervisor` block cannot be used by this adapter. */
  InvalidHostConfig: false,
  /** The HostNode names a hypervisor type this agent cannot serve. */
  UnknownHypervisorType: false,
  /** The hypervisor (libvirtd, KubeVirt API, simulated host) did not answer. */
  HostUnreachable: true,
  /** The image could not be fetched; a later try may work. */
  ImagePullFailed: true,
  /** The admin's source policy does not allow the image or boot source; nothing was opened. */
  SourceNotAllowed: false,
  /** The fetched bytes do not match the declared sha256. */
  ImageChecksumMismatch: false,
  /** The host cannot fit the VM now; it may later, or another host may. */
  InsufficientResources: true,
  /** The caller's AbortSignal fired. */
  Aborted: true,
  /** The call needs a running VM, and there is none with this uid yet (or any more). */
  VmNotRunning: true,
  /** The adapter was closed (agent shutting down or host removed). */
  AdapterClosed: false,
  /** Anything else; a bug or an unexpected hypervisor answer. */
  Internal: true,
} as const satisfies Record<string, boolean>;

export type AdapterErrorReason = keyof typeof ADAPTER_ERROR_REASONS;

export class AdapterError extends Error {
  override readonly name = "AdapterError";
  readonly reason: AdapterErrorReason;
  readonly retryable: boolean;

  constructor(
    reason: AdapterErrorReason,
    message: string,
    options?: { cause?: unknown; retryable?: boolean },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.retryable = options?.retryable ?? ADAPTER_ERROR_REASONS[reason];
  }
}

export function isAdapterError(err: unknown): err is AdapterError {
  return err instanceof AdapterError;
}

/** Wrap anything thrown underneath into an AdapterError (reason Internal unless it already is one). */
export function toAdapterError(err: unknown): AdapterError {
  if (err instanceof AdapterError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new AdapterError("Internal", message, { cause: err });
}
