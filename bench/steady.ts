// `npm run bench:steady`: logons at a fixed rate (open loop: a slow logon never delays the next),
// each logged off again after a hold time, so logoffs run at the same rate. Prints create→Ready
// p50/p95/p99 for the operator and for the floor at the same rate on the same API server.
import { commonFlags, parseFlags } from "./lib/args.js";
import { apiWrites, createNamespace, diffCounts, sumCounts } from "./lib/cluster.js";
import { floorSteady, paced, type FloorRun } from "./lib/floor.js";
import {
  paths,
  poolObject,
  poolStatus,
  sessionObject,
  startAgent,
  startController,
  userName,
} from "./lib/griddesk.js";
import {
  controllerReport,
  CpuMeter,
  diffControllers,
  formatControllerReport,
  freePort,
  memory,
} from "./lib/procs.js";
import { ReadyWatcher } from "./lib/ready-watcher.js";
import { runBench } from "./lib/run.js";
import { latencies, load, mib, ms, sleep, table, until } from "./lib/stats.js";

const f = parseFlags(
  "bench:steady",
  "logons at a fixed rate with matching logoffs, and the floor at that rate",
  {
    rate: { default: 20, help: "logons per second" },
    "duration-s": { default: 60, help: "how long logons are fired" },
    "hold-s": { default: 5, help: "each session is logged off this long after it was Ready" },
    hosts: { default: 20, help: "simulated hosts (one agent process)" },
    buffer: { default: 100, help: "the pool's warm buffer" },
    "provision-ms": { default: 200, help: "simulated VM provisioning time" },
    ...commonFlags,
    "port-base": { default: 46453, help: "API server port; etcd +1/+2, controller-manager +3" },
  },
);

const NS = "bench";
const count = Math.round(f.rate * f["duration-s"]);

await runBench(
  {
    name: "steady",
    clusterDir: f["cluster-dir"],
    portBase: f["port-base"],
    keepCluster: f["keep-cluster"],
    clientSockets: f["client-sockets"],
    outDir: f["out-dir"],
    profile: f.profile,
    runner: f.runner,
  },
  async (ctx) => {
    const { kube } = ctx.cluster;
    ctx.record("flags", f);
    const floorOpts = {
      rate: f.rate,
      durationMs: f["duration-s"] * 1000,
      holdMs: f["hold-s"] * 1000,
      hosts: f.hosts,
    };

    ctx.log(`floor (1 of 2): ${f.rate}/s for ${f["duration-s"]} s, no operator running`);
    const floorA = await floorSteady(kube, "floor-a", floorOpts);

    const op = {
      kubeconfig: ctx.cluster.kubeconfig,
      outDir: ctx.outDir,
      cpuProfile: f.profile,
      runner: f.runner === "dist" ? ("dist" as const) : ("tsx" as const),
      hosts: f.hosts,
      provisionMs: f["provision-ms"],
      sessionWorkers: f["session-workers"],
      poolWorkers: f["pool-workers"],
      hostWorkers: f["host-workers"],
      agentWorkers: f["agent-workers"],
      controllerPort: await freePort(),
    };
    const agent = startAgent(op);
    const controller = startController("controller", op);
    ctx.procs.push(agent, controller);
    await createNamespace(kube, NS);
    const inUse = Math.ceil(f.rate * (f["hold-s"] + 5));
    await kube.request(
      "POST",
      paths.pools(NS),
      poolObject(NS, "steady", { buffer: f.buffer, max: f.buffer + inUse * 4 + 100, min: 0 }),
    );
    ctx.log(`operator started; waiting for a warm buffer of ${f.buffer}`);
    await until(
      "the warm buffer",
      async () => {
        if (agent.exited() || controller.exited()) throw new Error("an operator process exited");
        return ((await poolStatus(kube, NS, "steady"))?.available ?? 0) >= f.buffer;
      },
      600_000,
      500,
    );
    await sleep(5_000);

    const watcher = new ReadyWatcher(kube, NS);
    await watcher.start();
    const writesBefore = await apiWrites(kube);
    const cpu = new CpuMeter({
      controller: controller.pid,
      agent: agent.pid,
      apiserver: ctx.cluster.pids.apiserver,
      etcd: ctx.cluster.pids.etcd,
    });
    const reconcilesBefore = await controllerReport(op.controllerPort).catch(() => ({}));
    const loadAtStart = load();
    ctx.log(`operator: ${f.rate} logons/s for ${f["duration-s"]} s, logoff ${f["hold-s"]} s after Ready`);
    const logoffs: Promise<unknown>[] = [];
    let timeouts = 0;
    const progress = setInterval(() => ctx.log(`  ${watcher.readyAt.size}/${count} Ready`), 10_000);
    const sentAt = new Map<string, number>();
    const run = await paced(count, f.rate, async (i) => {
      const u = userName("user", i);
      const sent = Date.now();
      sentAt.set(u, sent);
      await kube.request("POST", paths.sessions(NS), sessionObject(NS, "steady", u));
      if (!(await watcher.waitFor([u], 120_000))) {
        timeouts++;
        return undefined;
      }
      logoffs.push(
        sleep(f["hold-s"] * 1000).then(() =>
          kube.request("DELETE", paths.session(NS, u)).catch(() => undefined),
        ),
      );
      return (watcher.readyAt.get(u) as number) - sent;
    });
    clearInterval(progress);
    await Promise.all(logoffs);
    ctx.log("all logoffs sent; waiting for the sessions to go");
    await until(
      "logoffs to finish",
      async () => ((await kube.get(paths.sessions(NS))) as { items: unknown[] }).items.length === 0,
      120_000,
      500,
    ).catch((err: unknown) => ctx.log(String(err)));
    const usage = cpu.read();
    const writes = diffCounts(await apiWrites(kube), writesBefore);
    watcher.stop();
    const rss = { controller: memory(controller.pid).rss, agent: memory(agent.pid).rss };
    const loadAtEnd = load();
    const reconciles = diffControllers(
      await controllerReport(op.controllerPort).catch(() => ({})),
      reconcilesBefore,
    );
    await Promise.all([controller.stop(), agent.stop()]);

    ctx.log(`floor (2 of 2): ${f.rate}/s for ${f["duration-s"]} s, no operator running`);
    const floorB = await floorSteady(kube, "floor-b", floorOpts);

    const o = latencies(run.latencies);
    const fl = (r: FloorRun) => latencies(r.latencies);
    const row = (
      name: string,
      l: ReturnType<typeof latencies>,
      failed: number,
      w: number,
    ): (string | number)[] => [
      name,
      l.count,
      failed,
      ms(l.p50),
      ms(l.p95),
      ms(l.p99),
      ms(l.max),
      (w / count).toFixed(1),
    ];
    console.log(
      `\nSteady logons: ${f.rate}/s for ${f["duration-s"]} s (${count} logons), logoff after ${f["hold-s"]} s, ${f.hosts} hosts, buffer ${f.buffer}`,
    );
    console.log(
      table([
        ["run", "ready", "failed", "p50", "p95", "p99", "max", "writes/logon"],
        row("floor (before)", fl(floorA), floorA.failed, floorA.writes),
        row("operator", o, run.failed + timeouts, sumCounts(writes)),
        row("floor (after)", fl(floorB), floorB.failed, floorB.writes),
      ]),
    );
    console.log(
      `\noperator p99 ${ms(o.p99)} (goal <= 250 ms: ${o.p99 <= 250 ? "met" : "not met"}); load ${loadAtStart} at start, ${loadAtEnd} at end`,
    );
    const floorP99 = (fl(floorA).p99 + fl(floorB).p99) / 2;
    const floorP50 = (fl(floorA).p50 + fl(floorB).p50) / 2;
    console.log(
      `operator / floor: p50 ${ms(o.p50)} / ${ms(floorP50)} = ${(o.p50 / floorP50).toFixed(1)}x, ` +
        `p99 ${ms(o.p99)} / ${ms(floorP99)} = ${(o.p99 / floorP99).toFixed(1)}x (floor: mean of its two runs)`,
    );
    console.log(
      `CPU over the run (${usage.wall.toFixed(0)} s): ` +
        Object.entries(usage.cpu)
          .map(([k, v]) => `${k} ${((100 * v) / usage.wall).toFixed(1)}%`)
          .join(", "),
    );
    const stages = watcher.breakdown([...sentAt.keys()], (u) => sentAt.get(u));
    console.log("controller work queues:");
    for (const l of formatControllerReport(reconciles)) console.log(l);
    console.log(`where a logon's time goes (median/p99 from the stage before): ${stages}`);
    console.log(`RSS: controller ${mib(rss.controller)}, agent ${mib(rss.agent)}`);
    console.log("API writes (logons and logoffs, top):");
    for (const [k, v] of [...writes].slice(0, 12)) console.log(`  ${String(v).padStart(7)}  ${k}`);
    ctx.record("steady", {
      rate: f.rate,
      durationS: f["duration-s"],
      holdS: f["hold-s"],
      operator: { ...o, failed: run.failed + timeouts },
      floorBefore: { ...fl(floorA), failed: floorA.failed, writes: floorA.writes },
      floorAfter: { ...fl(floorB), failed: floorB.failed, writes: floorB.writes },
      loadAtStart,
      loadAtEnd,
      cpuSeconds: usage.cpu,
      wallSeconds: usage.wall,
      rss,
      stages,
      reconciles,
      writes: Object.fromEntries(writes),
    });
  },
);
