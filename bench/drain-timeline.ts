// The drain benchmark's eyes: watches on the sessions, desktops and drained host that time every
// step as a client sees it, and the reminder schedule's latencies. Used by bench/drain.ts.
import { reminderTimes } from "../src/controllers/drain/notice.js";
import { paths } from "./lib/griddesk.js";
import { inParallel, MergePatch, type Kube } from "./lib/kube.js";
import { latencies, until } from "./lib/stats.js";

export interface Notice {
  message: string;
  deadline?: string;
}

export const rel = (at: number, t0: number): string => `${((at - t0) / 1000).toFixed(3)} s`;

/** For each reminder: when it was due and how long after that each user still there saw it. */
export function reminderLatencies(
  notices: Map<string, { at: number; notice: Notice }[]>,
  started: number,
  deadline: number,
) {
  return reminderTimes({ startedAt: started, deadline }).map((at, i) => {
    const lats = [...notices.values()].flatMap((n) => {
      const seen = n[i + 1];
      return seen ? [seen.at - at] : [];
    });
    return { at, lat: latencies(lats) };
  });
}

/** Watches the namespace's sessions and desktops and the target host, timing what matters. */
export async function watchTimeline(kube: Kube, ns: string, target: string) {
  const s = {
    notices: new Map<string, { at: number; notice: Notice }[]>(),
    ended: new Map<string, number>(),
    gone: new Map<string, number>(),
    idleGoneAt: undefined as number | undefined,
    startedAt: undefined as string | undefined,
    deadline: undefined as string | undefined,
    drainedAt: undefined as number | undefined,
    stops: [] as { stop(): void }[],
    stop: () => s.stops.forEach((w) => w.stop()),
  };
  const from = async (path: string) =>
    ((await kube.get(`${path}?limit=1`)) as { metadata: { resourceVersion: string } }).metadata
      .resourceVersion;
  const onEnd = () => undefined;
  s.stops.push(
    await kube.watch(
      paths.sessions(ns),
      await from(paths.sessions(ns)),
      (type, o) => {
        const obj = o as unknown as {
          metadata: { name: string };
          status?: { notice?: Notice; phase?: string };
        };
        const name = obj.metadata.name;
        const at = Date.now();
        if (type === "DELETED") return void s.gone.set(name, at);
        const list = s.notices.get(name) ?? [];
        const notice = obj.status?.notice;
        if (notice && list.at(-1)?.notice.message !== notice.message)
          s.notices.set(name, [...list, { at, notice }]);
        if (obj.status?.phase === "Ended" && !s.ended.has(name)) s.ended.set(name, at);
      },
      onEnd,
    ),
  );
  const idle = new Set<string>();
  s.stops.push(
    await kube.watch(
      paths.desktops(ns),
      await from(paths.desktops(ns)),
      (type, o) => {
        const d = o as unknown as {
          metadata: { name: string; deletionTimestamp?: string };
          spec: { hostRef?: string; sessionRef?: unknown };
        };
        if (d.spec.hostRef !== target || d.spec.sessionRef) return;
        if (type === "DELETED" || d.metadata.deletionTimestamp) idle.add(d.metadata.name);
        if (idle.size > 0 && s.idleGoneAt === undefined) s.idleGoneAt = Date.now();
      },
      onEnd,
    ),
  );
  s.stops.push(
    await kube.watch(
      paths.hosts(),
      await from(paths.hosts()),
      (_type, o) => {
        const h = o as unknown as {
          metadata: { name: string };
          status?: { drain?: { startedAt?: string; deadline?: string; phase?: string } };
        };
        if (h.metadata.name !== target) return;
        s.startedAt ??= h.status?.drain?.startedAt;
        s.deadline ??= h.status?.drain?.deadline;
        if (h.status?.drain?.phase === "Drained") s.drainedAt ??= Date.now();
      },
      onEnd,
    ),
  );
  return s;
}

/**
 * The floor for telling N users: a plain client writes N objects at once (16 in flight) and a
 * watch sees each change; returns each write's latency (write sent → seen by the watch). No
 * operator is involved, so this is what the API server alone costs for N notices, measured in
 * the same run and on the same load as the drain it stands beside.
 */
export async function noticeFloor(kube: Kube, ns: string, n: number): Promise<number[]> {
  const path = `/api/v1/namespaces/${ns}/configmaps`;
  const names = Array.from({ length: n }, (_, i) => `notice-floor-${i}`);
  await inParallel(names, 16, (name) =>
    kube.request("POST", path, { metadata: { name, labels: { "griddesk.io/bench": "notice-floor" } } }),
  );
  const rv = ((await kube.get(`${path}?limit=1`)) as { metadata: { resourceVersion: string } }).metadata
    .resourceVersion;
  const seen = new Map<string, number>();
  const watch = await kube.watch(
    `${path}?labelSelector=griddesk.io%2Fbench%3Dnotice-floor`,
    rv,
    (type, o) => {
      const name = (o as { metadata: { name: string } }).metadata.name;
      if (type === "MODIFIED" && !seen.has(name)) seen.set(name, Date.now());
    },
    () => undefined,
  );
  const sent = new Map<string, number>();
  await inParallel(names, 16, (name) => {
    sent.set(name, Date.now());
    return kube.request("PATCH", `${path}/${name}`, { data: { notice: "Kernel upgrade." } }, MergePatch);
  });
  await until("floor writes seen by the watch", () => seen.size === n || undefined, 60_000, 20);
  watch.stop();
  await inParallel(names, 16, (name) => kube.request("DELETE", `${path}/${name}`));
  return names.map((name) => (seen.get(name) as number) - (sent.get(name) as number));
}
