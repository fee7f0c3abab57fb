// Helpers for the drain end-to-end tests: watching objects with their arrival times (so
// latencies are measured as a client sees them), running the griddesk CLI as a real process,
// and putting sessions onto one chosen host.
import { expect } from "@jest/globals";
import { newWatch } from "../../src/runtime/watch.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import {
  Informer,
  RestClient,
  type Cached,
  type KubeObject,
  type ResourceRef,
} from "../../src/runtime/index.js";
import type { DesktopSession, HostNode } from "../../src/api/types.generated.js";
import { eventually, kubeConfig } from "./support/cluster.js";
import { clients, inParallel, sessionObject } from "./support/griddesk.js";
import { startGriddesk } from "./support/processes.js";

export type Seen<T> = (obj: Cached<T>, atMs: number) => void;

/** An informer whose every add/update is reported with the time it arrived; stop() when done. */
export async function watchObjects<T extends KubeObject>(
  resource: ResourceRef,
  opts: { namespace?: string; labelSelector?: string },
  seen: Seen<T>,
): Promise<Informer<T>> {
  const kc = kubeConfig();
  const informer = new Informer<T>(new RestClient(kc), newWatch(kc), { resource, ...opts });
  informer.addHandler({ add: (o) => seen(o, Date.now()), update: (_old, o) => seen(o, Date.now()) });
  informer.start();
  await informer.waitForSync();
  return informer;
}

/** What a watch on a namespace's sessions saw of a drain, with arrival times (ms since the epoch). */
export interface SessionsSeen {
  informer: Informer<DesktopSession>;
  /** When each session first carried a notice. */
  notified: Map<string, number>;
  /** When each session was first seen in a phase other than Ready. */
  leftReady: Map<string, number>;
  /** Each session as first seen Ended, and when. */
  ended: Map<string, { at: number; session: DesktopSession }>;
}

/** Watches the sessions of `namespace` (all Ready when it starts) for notices, phase changes and ends. */
export async function followSessions(namespace: string): Promise<SessionsSeen> {
  const seen = { notified: new Map(), leftReady: new Map(), ended: new Map() } as Omit<
    SessionsSeen,
    "informer"
  >;
  const informer = await watchObjects<DesktopSession>(Resources.DesktopSession, { namespace }, (s, at) => {
    const name = s.metadata.name;
    if (s.status?.notice && !seen.notified.has(name)) seen.notified.set(name, at);
    if (s.status?.phase !== "Ready" && !seen.leftReady.has(name)) seen.leftReady.set(name, at);
    if (s.status?.phase === "Ended" && !seen.ended.has(name))
      seen.ended.set(name, { at, session: s as DesktopSession });
  });
  return { informer, ...seen };
}

/**
 * What a forced logoff must be at any speed: every session not in `early` that left Ready did so
 * no sooner than the deadline (as the watch saw it, and by its own endedAt), and every session
 * that ended was one of those, with reason HostDrained. How long after the deadline is a figure
 * for bench:drain, not a test bound.
 */
export function expectForcedOffAtDeadline(seen: SessionsSeen, deadline: string, early: readonly string[]) {
  const deadlineMs = Date.parse(deadline);
  for (const [name, at] of seen.leftReady)
    if (!early.includes(name))
      expect({ name, msBeforeDeadline: Math.max(0, deadlineMs - at) }).toEqual({ name, msBeforeDeadline: 0 });
  for (const [name, { session }] of seen.ended) {
    expect(early).not.toContain(name);
    expect(session.status?.endReason).toBe("HostDrained");
    expect(Date.parse(session.status?.endedAt as string)).toBeGreaterThanOrEqual(deadlineMs);
  }
}

/** Runs `griddesk ARGS…` as a process; resolves with its exit code and output. */
export async function griddeskCli(args: string[], name = "cli"): Promise<{ code: number; output: string }> {
  const proc = startGriddesk(name, args);
  const code = await new Promise<number>((resolve) => proc.child.once("exit", (c) => resolve(c ?? 1)));
  return { code, output: proc.tail(10_000) };
}

export const condition = (h: HostNode | undefined, type: string) =>
  h?.status?.conditions?.find((c) => c.type === type);

export async function hostReady(name: string, timeoutMs = 90_000): Promise<void> {
  const c = clients();
  await eventually(
    `${name} Ready`,
    async () => condition(await c.hosts.tryGet({ name }), "Ready")?.status === "True",
    timeoutMs,
  );
}

/**
 * Cordons a host and waits until the controller has seen it (its Schedulable condition False):
 * placement reads the same cache, so only then is "no new desktops here" certain.
 */
export async function cordon(name: string): Promise<void> {
  const c = clients();
  await c.hosts.mergePatch({ name }, { spec: { unschedulable: true } });
  await eventually(
    `${name} Schedulable=False`,
    async () => condition(await c.hosts.tryGet({ name }), "Schedulable")?.status === "False",
    30_000,
  );
}

/** Logs `users` on and waits until every session is Ready; returns them. */
export async function logOn(
  ns: string,
  pool: string,
  users: string[],
  timeoutMs = 120_000,
): Promise<DesktopSession[]> {
  const c = clients();
  await inParallel(users, 10, (u) => c.sessions.create(sessionObject(ns, pool, u)));
  return eventually(
    `${users.length} sessions Ready`,
    async () => {
      const all = (await c.sessions.list({ namespace: ns })).filter((s) => users.includes(s.metadata.name));
      return all.length === users.length && all.every((s) => s.status?.phase === "Ready") ? all : undefined;
    },
    timeoutMs,
    500,
  );
}

export const users = (prefix: string, n: number): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(2, "0")}`);

/** A drain request as written to spec.drain. */
export const drainRequest = (gracePeriod: string, message = "Host maintenance: please save your work.") => ({
  message,
  gracePeriod,
  forceLogoff: true,
  reason: "KernelUpgrade",
});

/** Small desktops, so a simulated host of any profile holds a few dozen (with roomyHosts). */
export const SMALL = { cpu: "500m", memory: "512Mi", disk: "2Gi" };

/** Lets hosts overcommit CPU, as VDI hosts usually do. */
export async function roomyHosts(names: readonly string[]): Promise<void> {
  const c = clients();
  for (const name of names) await c.hosts.mergePatch({ name }, { spec: { overcommit: { cpu: 4 } } });
}
