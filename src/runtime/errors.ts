// Typed API errors, so callers branch on the kind of failure rather than on status numbers:
// a ConflictError means "re-read and try again", a GoneError means "relist", a NotFoundError
// is usually not an error at all for a level-triggered reconciler.

/** The `Status` object the API server returns with a failure (the parts we use). */
export interface ApiStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly status: ApiStatus,
    context: string,
  ) {
    super(`${context}: ${statusCode} ${status.reason ?? ""} ${status.message ?? ""}`.trim());
    this.name = new.target.name;
  }
}

/** 409: the object changed since it was read (resourceVersion mismatch) or already exists. */
export class ConflictError extends ApiError {}
/** 404: the object (or its namespace, or the resource) does not exist. */
export class NotFoundError extends ApiError {}
/** 410: the resourceVersion or continue token is too old; relist. */
export class GoneError extends ApiError {}

/** Builds the most specific error for an HTTP status and the Status body the server sent. */
export function apiError(statusCode: number, body: unknown, context: string): ApiError {
  const status = isStatus(body) ? body : { message: typeof body === "string" ? body : undefined };
  switch (statusCode) {
    case 404:
      return new NotFoundError(statusCode, status, context);
    case 409:
      return new ConflictError(statusCode, status, context);
    case 410:
      return new GoneError(statusCode, status, context);
    default:
      return new ApiError(statusCode, status, context);
  }
}

export function isStatus(body: unknown): body is ApiStatus {
  return typeof body === "object" && body !== null && (body as ApiStatus).kind === "Status";
}

/** The request never got an HTTP answer (connection refused, reset, TLS failure, aborted). */
export class TransportError extends Error {
  constructor(context: string, cause: unknown) {
    super(`${context}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = "TransportError";
  }
}
