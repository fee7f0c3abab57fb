// `npm run bench:drain`: the drain timeline. A fresh control plane; one simulated agent; N users
// logged on to one host; then a drain with a grace period G. Some users log off early (at G/3);
// the rest are forced off at the deadline. A watch on the sessions and the host times every
// step as a client sees it, and the benchmark prints the timeline: notice latency (request →
// every user told), reminder latency (scheduled → seen), early logoffs, deadline accuracy
// (forced logoff − deadline) and time to Drained. Beside the notice latency: its floor, the same
// number of writes by a plain client seen by a watch, measured in the same run. The integration
// tests assert only what must hold at any speed (told before the deadline, nobody forced off
// before it); these figures are where the speed is reported.
import { commonFlags, parseFlags } from "./lib/args.js";
import { createNamespace } from "./lib/cluster.js";
import { paths, poolObject, sessionObject, startAgent, startController, userName } from "./lib/griddesk.js";
import { inParallel, MergePatch } from "./lib/kube.js";
import { runBench } from "./lib/run.js";
import { noticeFloor, reminderLatencies, rel, watchTimeline } from "./drain-timeline.js";
import { latencies, ms, sleep, table, until } from "./lib/stats.js";

const f = parseFlags("bench:drain", "a deadline drain of one host, as a timeline", {
  sessions: { default: 20, help: "users logged on to the drained host" },
  "grace-s": { default: 30, help: "the drain's grace period in seconds" },
  early: { default: 5, help: "users who log off early (at a third of the grace period)" },
  hosts: { default: 3, help: "simulated hosts (the first is drained; the others take the pool's buffer)" },
  "provision-ms": { default: 200, help: "simulated VM provisioning time" },
  ...commonFlags,
  "port-base": { default: 46473, help: "API server port; etcd +1/+2, controller-manager +3" },
});

const NS = "bench-drain";
const G = f["grace-s"] * 1000;
type Obj = { metadata: { name: string } };

await runBench(
  {
    name: "drain",
    clusterDir: f["cluster-dir"],
    portBase: f["port-base"],
    keepCluster: f["keep-cluster"],
    clientSockets: f["client-sockets"],
    outDir: f["out-dir"],
    profile: f.profile,
  },
  async (ctx) => {
    const { kube } = ctx.cluster;
    ctx.record("flags", f);
    const op = {
      kubeconfig: ctx.cluster.kubeconfig,
      outDir: ctx.outDir,
      cpuProfile: f.profile,
      hosts: f.hosts,
      provisionMs: f["provision-ms"],
    };
    ctx.procs.push(startAgent(op), startController("controller", op));
    await createNamespace(kube, NS);
    const hosts = await until(
      "hosts registered",
      async () => {
        const list = ((await kube.get(paths.hosts())) as { items: Obj[] }).items
          .map((h) => h.metadata.name)
          .sort();
        return list.length === f.hosts ? list : undefined;
      },
      120_000,
    );
    const [target, ...others] = hosts as [string, ...string[]];
    const patchHost = (name: string, body: unknown) =>
      kube.request("PATCH", `${paths.hosts()}/${name}`, body, MergePatch);

    // Everyone logs on to the target: the other hosts are cordoned meanwhile.
    for (const h of others) await patchHost(h, { spec: { unschedulable: true } });
    await kube.request("POST", paths.pools(NS), poolObject(NS, "cc", { buffer: 2, max: f.sessions + 20 }));
    const users = Array.from({ length: f.sessions }, (_, i) => userName("u", i));
    await inParallel(users, 16, (u) => kube.request("POST", paths.sessions(NS), sessionObject(NS, "cc", u)));
    await until(
      "sessions Ready on the target",
      async () => {
        const items = (
          (await kube.get(paths.sessions(NS))) as {
            items: { status?: { phase?: string; hostRef?: string } }[];
          }
        ).items;
        return (
          items.length === f.sessions &&
          items.every((s) => s.status?.phase === "Ready" && s.status.hostRef === target)
        );
      },
      300_000,
    );
    for (const h of others) await patchHost(h, { spec: { unschedulable: false } });
    ctx.log(`${f.sessions} users on ${target}; draining it with a ${f["grace-s"]} s grace period`);

    // The floor, in this run and on this load: the same number of writes by a plain client.
    const floor = latencies(await noticeFloor(kube, NS, f.sessions));
    ctx.log(`floor: ${f.sessions} plain writes seen by a watch: p50 ${ms(floor.p50)}, max ${ms(floor.max)}`);

    const seen = await watchTimeline(kube, NS, target);
    await sleep(1000);
    const t0 = Date.now();
    await patchHost(target, {
      spec: {
        drain: { message: "Kernel upgrade.", gracePeriod: `${f["grace-s"]}s`, reason: "KernelUpgrade" },
      },
    });
    await sleep(G / 3);
    const early = users.slice(0, f.early);
    const tEarly = Date.now();
    await Promise.all(early.map((u) => kube.request("DELETE", paths.session(NS, u))));
    await until("Drained", () => seen.drainedAt, G + 120_000, 100);
    seen.stop();

    const deadline = Date.parse(seen.deadline ?? "");
    const started = Date.parse(seen.startedAt ?? "");
    const first = [...seen.notices.values()].map((n) => (n[0]?.at ?? NaN) - t0);
    const reminders = reminderLatencies(seen.notices, started, deadline);
    const forced = [...seen.ended.entries()]
      .filter(([u]) => !early.includes(u))
      .map(([, at]) => at - deadline);
    const goneEarly = early.map((u) => (seen.gone.get(u) ?? NaN) - tEarly);
    const idle = seen.idleGoneAt ? seen.idleGoneAt - t0 : NaN;
    const l = latencies(first);
    const steps: [number, string, string][] = [
      [t0, "drain requested", `grace ${f["grace-s"]} s, ${f.sessions} sessions`],
      [started, "drain started (status.drain.startedAt, whole seconds)", `deadline ${seen.deadline}`],
      [
        t0 + l.max,
        "every user notified (status.notice)",
        `p50 ${ms(l.p50)}, p95 ${ms(l.p95)}, max ${ms(l.max)} (${first.length}/${f.sessions}); ` +
          `floor (${f.sessions} plain writes) p50 ${ms(floor.p50)}, max ${ms(floor.max)}`,
      ],
      [t0 + idle, "first idle desktop deleted", "the pool re-creates them elsewhere"],
      ...reminders.map((r, i): [number, string, string] => [
        r.at,
        `reminder ${i + 1} seen by every user left`,
        `after its time: p50 ${ms(r.lat.p50)}, max ${ms(r.lat.max)}`,
      ]),
      [tEarly, `${f.early} early logoffs`, `done in max ${ms(Math.max(...goneEarly))}`],
      [
        deadline,
        `${forced.length} forced logoffs (HostDrained)`,
        `offset from the deadline: min ${ms(Math.min(...forced))}, max ${ms(Math.max(...forced))}`,
      ],
      [seen.drainedAt ?? NaN, "host Drained", `${ms((seen.drainedAt ?? NaN) - deadline)} after the deadline`],
    ];
    steps.sort((a, b) => a[0] - b[0]);
    const rows = [["+time", "step", "figures"], ...steps.map(([at, step, fig]) => [rel(at, t0), step, fig])];
    console.log(`\ndrain timeline (${target}):\n${table(rows.map((r) => r.map(String)))}\n`);
    ctx.record("drain", {
      noticeLatencyMs: l,
      noticeFloorMs: floor,
      reminders: reminders.map((r) => r.lat),
      deadlineOffsetMs: { min: Math.min(...forced), max: Math.max(...forced) },
      timeToDrainedMs: (seen.drainedAt ?? NaN) - t0,
      idleDeletedMs: idle,
      earlyLogoffMs: Math.max(...goneEarly),
    });
  },
);
