// `npm run bench:storm`: the 9 a.m. logon storm. A fresh control plane; one simulated agent
// serving H hosts; a pool whose warm buffer holds N desktops; then N logons fired at once.
// Prints create→Ready p50/p95/p99 and the total time, and the floor measured in the same run
// against the same API server (before and after the operator's turn, with no operator running):
// efficiency = floor time / operator time.
import { commonFlags, parseFlags } from "./lib/args.js";
import { apiWrites, createNamespace, diffCounts, sumCounts } from "./lib/cluster.js";
import { floorStorm, type FloorRun } from "./lib/floor.js";
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
import { latencies, load, mib, ms, sec, sleep, table, until } from "./lib/stats.js";

const f = parseFlags("bench:storm", "N logons at once against a warm pool, and the API server's floor", {
  hosts: { default: 100, help: "simulated hosts (one agent process)" },
  logons: { default: 1000, help: "logons fired at once (the warm buffer is as large)" },
  "provision-ms": { default: 200, help: "simulated VM provisioning time" },
  "timeout-s": { default: 900, help: "give up waiting for Ready after this long" },
  ...commonFlags,
  "port-base": { default: 46443, help: "API server port; etcd +1/+2, controller-manager +3" },
});

const N = f.logons;
const NS = "bench";

await runBench(
  {
    name: "storm",
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

    ctx.log(`floor (1 of 2): ${N} logons at once, no operator running`);
    const serverPids = { apiserver: ctx.cluster.pids.apiserver, etcd: ctx.cluster.pids.etcd };
    const floorA = await floorStorm(kube, "floor-a", N, f.hosts, serverPids);
    ctx.log(`floor: ${sec(floorA.totalMs)}`);

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
    await kube.request(
      "POST",
      paths.pools(NS),
      poolObject(NS, "storm", { buffer: N, max: 2 * N + 10, min: 0 }),
    );
    const warmStart = Date.now();
    ctx.log(`operator started; waiting for a warm buffer of ${N} on ${f.hosts} hosts`);
    let lastLog = 0;
    await until(
      "the warm buffer",
      async () => {
        const s = await poolStatus(kube, NS, "storm");
        if (Date.now() - lastLog > 10_000) {
          lastLog = Date.now();
          ctx.log(`  pool: ${s?.available ?? 0} available, ${s?.provisioning ?? 0} provisioning`);
        }
        if (agent.exited() || controller.exited()) throw new Error("an operator process exited");
        return (s?.available ?? 0) >= N;
      },
      f["timeout-s"] * 1000,
      500,
    );
    const warmMs = Date.now() - warmStart;
    ctx.log(`warm buffer full after ${sec(warmMs)}; letting it settle`);
    await sleep(5_000);

    const watcher = new ReadyWatcher(kube, NS);
    await watcher.start();
    const users = Array.from({ length: N }, (_, i) => userName("user", i));
    const sentAt = new Map<string, number>();
    const writesBefore = await apiWrites(kube);
    const cpu = new CpuMeter({
      controller: controller.pid,
      agent: agent.pid,
      apiserver: ctx.cluster.pids.apiserver,
      etcd: ctx.cluster.pids.etcd,
      bench: process.pid,
    });
    const reconcilesBefore = await controllerReport(op.controllerPort).catch(() => ({}));
    const loadAtStart = load();
    ctx.log(`storm: ${N} logons at once`);
    const t0 = Date.now();
    let createFailures = 0;
    await Promise.all(
      users.map(async (u) => {
        sentAt.set(u, Date.now());
        await kube
          .request("POST", paths.sessions(NS), sessionObject(NS, "storm", u))
          .catch((err: unknown) => {
            createFailures++;
            console.warn(`create ${u}: ${String(err)}`);
          });
      }),
    );
    const allCreatedMs = Date.now() - t0;
    ctx.log(`all ${N} sessions created after ${sec(allCreatedMs)}; waiting for Ready`);
    const progress = setInterval(() => ctx.log(`  ${watcher.readyAt.size}/${N} Ready`), 10_000);
    const complete = await watcher.waitFor(users, f["timeout-s"] * 1000);
    clearInterval(progress);
    const usage = cpu.read();
    const writes = diffCounts(await apiWrites(kube), writesBefore);
    watcher.stop();
    const lat = users.flatMap((u) => {
      const r = watcher.readyAt.get(u);
      return r === undefined ? [] : [r - (sentAt.get(u) as number)];
    });
    const operatorMs = Math.max(...watcher.readyAt.values()) - t0;
    const rss = { controller: memory(controller.pid).rss, agent: memory(agent.pid).rss };
    if (!complete) ctx.log(`WARNING: only ${lat.length}/${N} sessions became Ready`);

    const reconciles = diffControllers(
      await controllerReport(op.controllerPort).catch(() => ({})),
      reconcilesBefore,
    );
    ctx.log("stopping the operator");
    await Promise.all([controller.stop(), agent.stop()]);

    ctx.log(`floor (2 of 2): ${N} logons at once, no operator running`);
    const floorB = await floorStorm(kube, "floor-b", N, f.hosts, serverPids);
    const floorMs = (floorA.totalMs + floorB.totalMs) / 2;
    const efficiency = floorMs / operatorMs;
    // The same comparison in CPU seconds (every process involved), which a noisy neighbour
    // disturbs far less than wall time.
    const total = (c?: Record<string, number>): number => Object.values(c ?? {}).reduce((a, b) => a + b, 0);
    const floorCpu = (total(floorA.cpu) + total(floorB.cpu)) / 2;
    const cpuEfficiency = floorCpu / total(usage.cpu);

    const opLat = latencies(lat);
    const fl = (r: FloorRun) => latencies(r.latencies);
    const operatorWrites = sumCounts(writes) - N; // the load generator's own creates excluded
    console.log(`\nLogon storm: ${N} logons at once, ${f.hosts} simulated hosts, warm buffer ${N}`);
    console.log(
      table([
        ["run", "ready", "p50", "p95", "p99", "max", "total", "writes/logon"],
        [
          "floor (before)",
          floorA.latencies.length,
          ms(fl(floorA).p50),
          ms(fl(floorA).p95),
          ms(fl(floorA).p99),
          ms(fl(floorA).max),
          sec(floorA.totalMs),
          (floorA.writes / N).toFixed(1),
        ],
        [
          "operator",
          lat.length,
          ms(opLat.p50),
          ms(opLat.p95),
          ms(opLat.p99),
          ms(opLat.max),
          sec(operatorMs),
          ((operatorWrites + N) / N).toFixed(1),
        ],
        [
          "floor (after)",
          floorB.latencies.length,
          ms(fl(floorB).p50),
          ms(fl(floorB).p95),
          ms(fl(floorB).p99),
          ms(fl(floorB).max),
          sec(floorB.totalMs),
          (floorB.writes / N).toFixed(1),
        ],
      ]),
    );
    console.log(
      `\nefficiency = floor / operator = ${sec(floorMs)} / ${sec(operatorMs)} = ${efficiency.toFixed(2)} (goal >= 0.6: ${efficiency >= 0.6 ? "met" : "not met"})`,
    );
    console.log(
      `CPU efficiency = floor CPU / operator CPU = ${floorCpu.toFixed(1)} s / ${total(usage.cpu).toFixed(1)} s = ${cpuEfficiency.toFixed(2)}`,
    );
    console.log(`load average at start ${loadAtStart}, at end ${load()}; warm-up took ${sec(warmMs)}`);
    console.log(
      `CPU seconds during the storm (${usage.wall.toFixed(1)} s wall): ` +
        Object.entries(usage.cpu)
          .map(([k, v]) => `${k} ${v.toFixed(1)}`)
          .join(", "),
    );
    const cpuLine = (c?: Record<string, number>): string =>
      Object.entries(c ?? {})
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(", ");
    console.log(`CPU seconds of the floor: before ${cpuLine(floorA.cpu)}; after ${cpuLine(floorB.cpu)}`);
    const stages = watcher.breakdown(users, (u) => sentAt.get(u));
    console.log("controller work queues:");
    for (const l of formatControllerReport(reconciles)) console.log(l);
    console.log(`where a logon's time goes (median/p99 from the stage before): ${stages}`);
    console.log(`RSS after the storm: controller ${mib(rss.controller)}, agent ${mib(rss.agent)}`);
    console.log("API writes during the storm (top):");
    for (const [k, v] of [...writes].slice(0, 12)) console.log(`  ${String(v).padStart(7)}  ${k}`);

    ctx.record("storm", {
      logons: N,
      hosts: f.hosts,
      operator: { ...opLat, totalMs: operatorMs, createsMs: allCreatedMs, createFailures },
      floorBefore: { ...fl(floorA), totalMs: floorA.totalMs, writes: floorA.writes, cpuSeconds: floorA.cpu },
      floorAfter: { ...fl(floorB), totalMs: floorB.totalMs, writes: floorB.writes, cpuSeconds: floorB.cpu },
      efficiency,
      cpuEfficiency,
      warmMs,
      loadAtStart,
      loadAtEnd: load(),
      cpuSeconds: usage.cpu,
      wallSeconds: usage.wall,
      rss,
      stages,
      reconciles,
      writes: Object.fromEntries(writes),
    });
  },
);
