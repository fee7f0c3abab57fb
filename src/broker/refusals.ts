// Why a console is refused, and the HTTP status each reason is answered with before the
// WebSocket upgrade. Messages are for the user: they never quote a ticket, an address or a password.
export type ConsoleRefusal =
  | "Missing"
  | "SignedOut"
  | "Invalid"
  | "Expired"
  | "Reused"
  | "Forbidden"
  | "SessionGone"
  | "NotReady"
  | "TooMany"
  | "Unreachable"
  | "Unsupported";

/** HTTP status of each refusal, answered before the WebSocket upgrade. */
export const REFUSAL_STATUS: Record<ConsoleRefusal, number> = {
  Missing: 401,
  SignedOut: 401,
  Invalid: 401,
  Expired: 401,
  Reused: 409,
  Forbidden: 403,
  SessionGone: 410,
  NotReady: 409,
  TooMany: 429,
  Unreachable: 502,
  Unsupported: 501,
};

export class ConsoleRefused extends Error {
  override readonly name = "ConsoleRefused";
  constructor(
    readonly reason: ConsoleRefusal,
    message: string,
  ) {
    super(message);
  }
}
