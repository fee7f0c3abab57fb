// Who may use which pool, and which session is a user's in a pool, as pure functions.
// Entitlement is a field of the pool (spec.access: users and groups), not Kubernetes RBAC through
// SubjectAccessReview: end users are not Kubernetes users (thousands of them, from the identity
// provider, with no RoleBindings), the pool's author decides who uses it in the same object that
// says what it is (reviewed in one GitOps change), and the broker answers without a round trip
// per pool. Omitted access means nobody through the broker.
import { createHash } from "node:crypto";
import type { DesktopPool, DesktopSession } from "../api/index.js";
import type { Cached } from "../runtime/index.js";
import type { Identity } from "./signin.js";

export function entitled(pool: DesktopPool, who: Identity): boolean {
  const access = pool.spec.access;
  if (!access) return false;
  return (access.users ?? []).includes(who.user) || (access.groups ?? []).some((g) => who.groups.includes(g));
}

/**
 * The one session a user has in a pool, by a name every replica computes alike: two replicas
 * asked to connect at once both create it and one gets AlreadyExists, never two sessions.
 */
export function sessionNameFor(pool: string, user: string): string {
  const digest = createHash("sha256").update(user).digest("hex").slice(0, 12);
  const prefix = pool.slice(0, 240).replace(/[.-]+$/, "");
  return `${prefix}-${digest}`;
}

/** Ended, failed or being deleted: no longer something to reconnect to. */
export function finished(session: DesktopSession): boolean {
  const phase = session.status?.phase;
  return Boolean(session.metadata.deletionTimestamp) || phase === "Ended" || phase === "Failed";
}

/** What the page is told about a session: its phase and, when it is not Ready, why. */
export interface SessionView {
  readonly namespace: string;
  readonly name: string;
  readonly pool: string;
  readonly phase: string;
  readonly message?: string;
  readonly connected: boolean;
  readonly notice?: { readonly message: string; readonly deadline?: string };
}

export function sessionView(s: Cached<DesktopSession>): SessionView {
  const ready = s.status?.conditions?.find((c) => c.type === "Ready");
  const phase = s.metadata.deletionTimestamp ? "Ending" : (s.status?.phase ?? "Pending");
  return {
    namespace: s.metadata.namespace ?? "",
    name: s.metadata.name ?? "",
    pool: s.spec.poolRef,
    phase,
    ...(phase !== "Ready" && ready?.message ? { message: ready.message } : {}),
    connected: s.status?.connected === true,
    ...(s.status?.notice ? { notice: { ...s.status.notice } } : {}),
  };
}

export interface PoolView {
  readonly namespace: string;
  readonly name: string;
  /** Warm desktops ready now: connecting to one takes seconds. */
  readonly available: number;
  readonly session?: SessionView;
}

export function poolView(pool: DesktopPool, session: DesktopSession | undefined): PoolView {
  return {
    namespace: pool.metadata.namespace ?? "",
    name: pool.metadata.name ?? "",
    available: pool.status?.available ?? 0,
    ...(session && !finished(session) ? { session: sessionView(session) } : {}),
  };
}
