// The floor: a plain client doing only the API writes one logon inherently needs, with no
// operator running, against the same API server, timed by the same session watch:
//
//   1. POST   the DesktopSession                                    (the broker's create)
//   2. PATCH  the Desktop: spec.sessionRef + session label, with a `test` on resourceVersion
//                                                                   (the bind; no double booking)
//   3. PATCH  Desktop/status: phase InUse, conditions               (what the agent reports)
//   4. PATCH  DesktopSession/status: phase Ready, endpoint, conditions (what the user waits for)
//
// Each logon's writes are sequential (each depends on the one before); logons run concurrently
// through the same client as the operator benchmark's load generator. A logoff is a DELETE of
// the session and of its desktop. Warm desktops are made beforehand (untimed), one per logon, so
// the floor never contends for a desktop: it is the cost of the writes and nothing else.
import { JsonPatch, MergePatch, type Kube, inParallel } from "./kube.js";
import { DESKTOP_SIZE, IMAGE, paths, sessionObject, userName } from "./griddesk.js";
import { ReadyWatcher } from "./ready-watcher.js";
import { createNamespace, deleteNamespace } from "./cluster.js";
import { CpuMeter } from "./procs.js";

interface Obj {
  metadata: { name: string; uid: string; resourceVersion: string; generation?: number };
}

const now = (): string => new Date().toISOString().replace(/\.\d+Z$/, "Z");

function condition(type: string, status: string, reason: string, message: string, gen = 1): object {
  return { type, status, reason, message, observedGeneration: gen, lastTransitionTime: now() };
}

export interface FloorDesktop {
  name: string;
  resourceVersion: string;
  host: string;
}

/** Makes `count` Available desktops (untimed setup), spread over `hosts` host names. */
export async function warmFloorDesktops(
  kube: Kube,
  ns: string,
  count: number,
  hosts: number,
): Promise<FloorDesktop[]> {
  const out: FloorDesktop[] = new Array(count);
  await inParallel(
    Array.from({ length: count }, (_, i) => i),
    32,
    async (i) => {
      const host = `floor-host-${i % Math.max(1, hosts)}`;
      const name = `floor-${String(i).padStart(5, "0")}`;
      await kube.request("POST", paths.desktops(ns), {
        apiVersion: "griddesk.io/v1alpha1",
        kind: "Desktop",
        metadata: { name, namespace: ns, labels: { "griddesk.io/pool": "floor", "griddesk.io/host": host } },
        spec: {
          poolRef: "floor",
          hostRef: host,
          hypervisorType: "simulated",
          image: IMAGE,
          resources: DESKTOP_SIZE,
        },
      });
      const d = await kube.request<Obj>(
        "PATCH",
        `${paths.desktop(ns, name)}/status`,
        {
          status: {
            phase: "Available",
            observedGeneration: 1,
            endpoint: { protocol: "vnc", host: "127.0.0.1", port: 5900 + i },
            conditions: [
              condition("Ready", "True", "DesktopReady", `vnc://127.0.0.1:${5900 + i}`),
              condition("VMRunning", "True", "Running", "the hypervisor reports the VM running"),
            ],
          },
        },
        MergePatch,
      );
      out[i] = { name, resourceVersion: d.metadata.resourceVersion, host };
    },
  );
  return out;
}

/** One logon's inherent writes. */
export async function floorLogon(kube: Kube, ns: string, user: string, desktop: FloorDesktop): Promise<void> {
  const session = await kube.request<Obj>("POST", paths.sessions(ns), sessionObject(ns, "floor", user));
  const bound = await kube.request<Obj>(
    "PATCH",
    paths.desktop(ns, desktop.name),
    [
      { op: "test", path: "/metadata/resourceVersion", value: desktop.resourceVersion },
      { op: "add", path: "/spec/sessionRef", value: { name: user, uid: session.metadata.uid } },
      { op: "add", path: "/metadata/labels/griddesk.io~1session", value: user },
    ],
    JsonPatch,
  );
  const gen = bound.metadata.generation ?? 2;
  const endpoint = `vnc://127.0.0.1:5900`;
  await kube.request(
    "PATCH",
    `${paths.desktop(ns, desktop.name)}/status`,
    {
      metadata: { resourceVersion: bound.metadata.resourceVersion },
      status: {
        phase: "InUse",
        observedGeneration: gen,
        conditions: [
          condition("Ready", "True", "DesktopReady", endpoint, gen),
          condition("VMRunning", "True", "Running", "the hypervisor reports the VM running", gen),
        ],
      },
    },
    MergePatch,
  );
  await kube.request(
    "PATCH",
    `${paths.session(ns, user)}/status`,
    {
      status: {
        phase: "Ready",
        observedGeneration: 1,
        desktopRef: desktop.name,
        hostRef: desktop.host,
        endpoint: { protocol: "vnc", host: "127.0.0.1", port: 5900 },
        boundAt: now(),
        readyAt: now(),
        conditions: [
          condition("Bound", "True", "DesktopBound", `desktop ${desktop.name} on host ${desktop.host}`),
          condition("Ready", "True", "SessionReady", `connect to ${endpoint}`),
        ],
      },
    },
    MergePatch,
  );
}

export async function floorLogoff(
  kube: Kube,
  ns: string,
  user: string,
  desktop: FloorDesktop,
): Promise<void> {
  await kube.request("DELETE", paths.session(ns, user));
  await kube.request("DELETE", paths.desktop(ns, desktop.name));
}

export interface FloorRun {
  /** create→Ready per logon, ms. */
  latencies: number[];
  /** First create sent → last Ready seen, ms. */
  totalMs: number;
  failed: number;
  writes: number;
  /** CPU seconds of the API server and etcd while the logons ran (when their pids are given). */
  cpu?: Record<string, number>;
}

/** N logons fired at once (a storm) in a fresh namespace; deletes the namespace afterwards. */
export async function floorStorm(
  kube: Kube,
  ns: string,
  logons: number,
  hosts: number,
  pids: Record<string, number> = {},
): Promise<FloorRun> {
  await createNamespace(kube, ns);
  const desktops = await warmFloorDesktops(kube, ns, logons, hosts);
  const watcher = new ReadyWatcher(kube, ns);
  await watcher.start();
  const users = Array.from({ length: logons }, (_, i) => userName("floor", i));
  const sentAt = new Map<string, number>();
  const before = { ...kube.sent };
  const meter = new CpuMeter({ ...pids, bench: process.pid });
  const t0 = Date.now();
  let failed = 0;
  await Promise.all(
    users.map(async (u, i) => {
      sentAt.set(u, Date.now());
      await floorLogon(kube, ns, u, desktops[i] as FloorDesktop).catch((err: unknown) => {
        failed++;
        console.warn(`floor logon ${u} failed: ${String(err)}`);
      });
    }),
  );
  await watcher.waitFor(users, 30_000);
  const cpu = meter.read().cpu;
  watcher.stop();
  const latencies = users.flatMap((u) => {
    const r = watcher.readyAt.get(u);
    return r === undefined ? [] : [r - (sentAt.get(u) as number)];
  });
  const totalMs = Math.max(...watcher.readyAt.values()) - t0;
  const writes = Object.entries(kube.sent).reduce(
    (s, [v, n]) => s + (v === "GET" ? 0 : n - (before[v] ?? 0)),
    0,
  );
  await deleteNamespace(kube, ns, [paths.sessions(ns), paths.desktops(ns)]);
  return { latencies, totalMs, failed, writes, cpu };
}

/**
 * Logons at a fixed rate for `durationMs`, each logged off `holdMs` after it was Ready; returns
 * create→Ready latencies. Deletes the namespace afterwards.
 */
export async function floorSteady(
  kube: Kube,
  ns: string,
  opts: { rate: number; durationMs: number; holdMs: number; hosts: number },
): Promise<FloorRun> {
  const count = Math.round((opts.rate * opts.durationMs) / 1000);
  await createNamespace(kube, ns);
  const desktops = await warmFloorDesktops(kube, ns, count, opts.hosts);
  const watcher = new ReadyWatcher(kube, ns);
  await watcher.start();
  const before = { ...kube.sent };
  const run = await paced(count, opts.rate, async (i) => {
    const u = userName("floor", i);
    const d = desktops[i] as FloorDesktop;
    const sent = Date.now();
    await floorLogon(kube, ns, u, d);
    await watcher.waitFor([u], 30_000);
    const ready = watcher.readyAt.get(u);
    setTimeout(() => void floorLogoff(kube, ns, u, d).catch(() => undefined), opts.holdMs);
    return ready === undefined ? undefined : ready - sent;
  });
  watcher.stop();
  await new Promise((r) => setTimeout(r, opts.holdMs + 1000));
  const writes = Object.entries(kube.sent).reduce(
    (s, [v, n]) => s + (v === "GET" ? 0 : n - (before[v] ?? 0)),
    0,
  );
  await deleteNamespace(kube, ns, [paths.sessions(ns), paths.desktops(ns)]);
  return { ...run, writes };
}

/**
 * Starts fn(i) for i in [0, count) at `rate` per second (open loop: a slow logon never delays the
 * next one), and collects the latencies they return (undefined = failed).
 */
export async function paced(
  count: number,
  rate: number,
  fn: (i: number) => Promise<number | undefined>,
): Promise<{ latencies: number[]; totalMs: number; failed: number }> {
  const t0 = Date.now();
  const latencies: number[] = [];
  let failed = 0;
  const runs: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    runs.push(
      fn(i).then(
        (l) => void (l === undefined ? failed++ : latencies.push(l)),
        (err: unknown) => {
          failed++;
          console.warn(`logon ${i} failed: ${String(err)}`);
        },
      ),
    );
  }
  await Promise.all(runs);
  return { latencies, totalMs: Date.now() - t0, failed };
}
