// `npm run bench:scale`: a fleet held by one controller — D desktops, S sessions bound to them,
// H simulated hosts served by one agent process. Once it is built and quiet it measures:
//   - resident memory (VmRSS) of the controller and of the agent;
//   - CPU at rest over --rest-s (utime+stime from /proc), and the API writes made meanwhile
//     (heartbeats: one Lease renewal per host per interval, as Kubernetes node leases cost);
//   - a controller restart: time from the new process's start to informers synced (full
//     relist) and to every work queue drained, and the writes that restart caused.
import { readdirSync, statSync } from "node:fs";
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import path from "node:path";
import { createInterface } from "node:readline";
import { commonFlags, parseFlags } from "./lib/args.js";
import { apiWrites, createNamespace, deleteNamespace, diffCounts, repo, sumCounts } from "./lib/cluster.js";
import type { ScaleFloorReport } from "./lib/scale-floor.js";
import { inParallel } from "./lib/kube.js";
import {
  paths,
  poolObject,
  poolStatus,
  sessionObject,
  startAgent,
  startController,
  userName,
  type OperatorOptions,
} from "./lib/griddesk.js";
import {
  controllerReport,
  CpuMeter,
  diffControllers,
  distDir,
  formatControllerReport,
  freePort,
  memory,
  scrape,
  type Proc,
} from "./lib/procs.js";
import { summariseHeapSnapshot } from "./lib/profile.js";
import { ReadyWatcher } from "./lib/ready-watcher.js";
import { runBench, type BenchContext } from "./lib/run.js";
import { load, mib, sec, sleep, table, until } from "./lib/stats.js";

const f = parseFlags(
  "bench:scale",
  "a fleet held by one controller: memory, CPU at rest, restart convergence",
  {
    desktops: { default: 10_000, help: "desktops in the pool" },
    sessions: { default: 10_000, help: "sessions (each bound to one desktop; at most --desktops)" },
    hosts: { default: 1_000, help: "simulated hosts (one agent process)" },
    "rest-s": { default: 60, help: "how long CPU at rest is measured" },
    "provision-ms": { default: 200, help: "simulated VM provisioning time" },
    "create-concurrency": { default: 50, help: "session creates in flight while the fleet is built" },
    "build-timeout-s": { default: 3600, help: "give up building the fleet after this long" },
    heap: { default: false, help: "take a heap snapshot of the controller at rest and summarise it" },
    "controller-heap-mb": {
      default: 0,
      help: "the controller's V8 old-space limit (--max-old-space-size); 0: V8's default",
    },
    ...commonFlags,
    runner: {
      default: "dist",
      help: "dist: compiled JS, as deployed (memory figures); tsx: from the sources",
    },
    "port-base": { default: 46463, help: "API server port; etcd +1/+2, controller-manager +3" },
    // One agent process stands in for the agents of all H hosts, each of which would have its
    // own 4 workers: with 4 in all, building 10,000 desktops took over half an hour; with 64
    // (and a test suite running beside it) heartbeats fell behind the 40 s grace period.
    "agent-workers": { default: 16, help: "agent --workers (one agent serves every host here)" },
  },
);

const NS = "bench";
const FLOOR_NS = "bench-floor";
const execFileAsync = promisify(execFile);
const sessions = Math.min(f.sessions, f.desktops);

async function readyHosts(ctx: BenchContext): Promise<number> {
  const list = (await ctx.cluster.kube.get(paths.hosts())) as {
    items: { status?: { conditions?: { type: string; status: string }[] } }[];
  };
  return list.items.filter((h) =>
    h.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
  ).length;
}

/** Sum of a metric over label sets, or NaN when the controller is not answering yet. */
async function metric(port: number, name: string): Promise<number> {
  try {
    return (await scrape(port)).get(name) ?? 0;
  } catch {
    return NaN;
  }
}

/**
 * The controller leads, its controllers have started (their queues have taken the initial
 * replay of the caches), every work queue is empty and no reconcile runs: twice, 500 ms apart.
 */
async function drained(port: number): Promise<boolean> {
  for (let i = 0; i < 2; i++) {
    const m = await scrape(port).catch(() => undefined);
    if (!m) return false;
    const busy = (m.get("workqueue_depth") ?? 1) + (m.get("controller_runtime_active_workers") ?? 1);
    const started =
      (m.get("leader_election_master_status") ?? 1) > 0 && (m.get("workqueue_adds_total") ?? 0) > 0;
    if (busy > 0 || !started) return false;
    if (i === 0) await sleep(500);
  }
  return true;
}

async function waitReadyz(port: number, timeoutMs: number): Promise<void> {
  await until(
    "controller /readyz",
    async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.status === 200,
    timeoutMs,
    50,
  );
}

/** Runs bench/lib/scale-floor.ts: its relist time and RSS, and its CPU while renewing `leases` Leases. */
async function scaleFloor(ctx: BenchContext, leases: number, restS: number) {
  await createNamespace(ctx.cluster.kube, FLOOR_NS);
  // Bundled into plain JS first (esbuild comes with tsx), so that its memory is not the tsx
  // loader's: the controller it is compared with runs compiled too.
  const bundle = path.join(distDir, "scale-floor.mjs");
  await execFileAsync(path.join(repo, "node_modules/.bin/esbuild"), [
    path.join(repo, "bench/lib/scale-floor.ts"),
    "--bundle",
    "--platform=node",
    "--format=esm",
    `--outfile=${bundle}`,
    "--log-level=warning",
  ]);
  const child = spawn(
    path.join(repo, "node_modules/.bin/node"),
    [bundle, ctx.cluster.kubeconfig, String(leases), FLOOR_NS],
    { cwd: repo, stdio: ["ignore", "pipe", "inherit"] },
  );

  const reports: ScaleFloorReport[] = [];
  createInterface({ input: child.stdout }).on("line", (l) => {
    try {
      reports.push(JSON.parse(l) as ScaleFloorReport);
    } catch {
      /* not a report */
    }
  });
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    const listed = await until(
      "the floor's LIST",
      () => reports.find((r) => r.phase === "listed"),
      600_000,
      100,
    );
    await until("the floor's Leases", () => reports.some((r) => r.phase === "leases-ready"), 600_000, 100);
    const cpu = new CpuMeter({
      floor: child.pid as number,
      apiserver: ctx.cluster.pids.apiserver,
      etcd: ctx.cluster.pids.etcd,
    });
    await sleep(restS * 1000);
    const used = cpu.read();
    const mem = memory(child.pid as number);
    return {
      objects: listed.objects ?? 0,
      listMs: listed.listMs ?? NaN,
      rss: mem.rss,
      cpuPct: (100 * (used.cpu.floor ?? 0)) / used.wall,
      serverCpuPct: (100 * ((used.cpu.apiserver ?? 0) + (used.cpu.etcd ?? 0))) / used.wall,
    };
  } finally {
    child.kill("SIGTERM");
    await exited;
    await deleteNamespace(ctx.cluster.kube, FLOOR_NS);
  }
}

await runBench(
  {
    name: "scale",
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
    const port = await freePort();
    const op: OperatorOptions = {
      kubeconfig: ctx.cluster.kubeconfig,
      outDir: ctx.outDir,
      cpuProfile: f.profile,
      runner: f.runner === "dist" ? ("dist" as const) : ("tsx" as const),
      heapSnapshots: f.heap,
      hosts: f.hosts,
      provisionMs: f["provision-ms"],
      sessionWorkers: f["session-workers"],
      poolWorkers: f["pool-workers"],
      hostWorkers: f["host-workers"],
      agentWorkers: f["agent-workers"],
      controllerPort: port,
    };
    const agent = startAgent(op);
    // Only the controller gets the heap limit: it is the figure the limit is meant to bound.
    let controller: Proc = startController("controller", { ...op, maxOldSpaceMb: f["controller-heap-mb"] });
    ctx.procs.push(agent, controller);
    const built = Date.now();

    ctx.log(`building the fleet: ${f.hosts} hosts`);
    await until(
      `${f.hosts} Ready hosts`,
      async () => {
        if (agent.exited() || controller.exited()) throw new Error("an operator process exited");
        return (await readyHosts(ctx)) >= f.hosts;
      },
      f["build-timeout-s"] * 1000,
      2000,
    );
    const hostsMs = Date.now() - built;
    ctx.log(`${f.hosts} hosts Ready after ${sec(hostsMs)}; a pool of ${f.desktops} warm desktops`);
    await createNamespace(kube, NS);
    await kube.request(
      "POST",
      paths.pools(NS),
      poolObject(NS, "fleet", { buffer: f.desktops, max: f.desktops, min: 0 }),
    );
    let lastLog = 0;
    await until(
      `${f.desktops} Available desktops`,
      async () => {
        if (agent.exited() || controller.exited()) throw new Error("an operator process exited");
        const s = await poolStatus(kube, NS, "fleet");
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          ctx.log(`  pool: ${s?.available ?? 0} available, ${s?.provisioning ?? 0} provisioning`);
        }
        return (s?.available ?? 0) >= f.desktops;
      },
      f["build-timeout-s"] * 1000,
      1000,
    );
    const desktopsMs = Date.now() - built - hostsMs;
    ctx.log(`${f.desktops} desktops Available after ${sec(desktopsMs)}; ${sessions} sessions`);
    const watcher = new ReadyWatcher(kube, NS);
    await watcher.start();
    const users = Array.from({ length: sessions }, (_, i) => userName("user", i));
    const progress = setInterval(
      () => ctx.log(`  ${watcher.readyAt.size}/${sessions} sessions Ready`),
      15_000,
    );
    const sessionsStart = Date.now();
    await inParallel(users, f["create-concurrency"], (u) =>
      kube.request("POST", paths.sessions(NS), sessionObject(NS, "fleet", u)),
    );
    const allReady = await watcher.waitFor(users, f["build-timeout-s"] * 1000);
    clearInterval(progress);
    watcher.stop();
    const sessionsMs = Date.now() - sessionsStart;
    if (!allReady) throw new Error(`only ${watcher.readyAt.size}/${sessions} sessions became Ready`);
    ctx.log(`fleet built in ${sec(Date.now() - built)}; waiting for the controller to go quiet`);
    await until("controller queues drained", () => drained(port), 600_000, 1000);
    // Events are written in the background, a few at a time, and the build leaves a backlog of
    // them: at rest means that only heartbeats are written (10 s in a row without another write).
    ctx.log("waiting until only heartbeats are written (the build's events drain)");
    let writes = await apiWrites(kube);
    await until(
      "only heartbeats being written",
      async () => {
        await sleep(10_000);
        const now = await apiWrites(kube);
        const others = sumCounts(diffCounts(now, writes), (k) => !k.includes("leases"));
        writes = now;
        return others === 0;
      },
      900_000,
      0,
    );

    // At rest.
    const restWritesBefore = await apiWrites(kube);
    const restLoad = load();
    const cpu = new CpuMeter({
      controller: controller.pid,
      agent: agent.pid,
      apiserver: ctx.cluster.pids.apiserver,
      etcd: ctx.cluster.pids.etcd,
    });
    const reconcilesBefore = await metric(port, "controller_runtime_reconcile_total");
    const restCtlBefore = await controllerReport(port);
    ctx.log(`measuring CPU at rest for ${f["rest-s"]} s`);
    await sleep(f["rest-s"] * 1000);
    const rest = cpu.read();
    const restReconciles = (await metric(port, "controller_runtime_reconcile_total")) - reconcilesBefore;
    const restByController = diffControllers(await controllerReport(port), restCtlBefore);
    const restWrites = diffCounts(await apiWrites(kube), restWritesBefore);
    const memAtRest = { controller: memory(controller.pid), agent: memory(agent.pid) };
    const pct = (name: string): number => (100 * (rest.cpu[name] ?? 0)) / rest.wall;

    let heap: ReturnType<typeof summariseHeapSnapshot> | undefined;
    if (f.heap) {
      const dir = path.join(ctx.outDir, "heap");
      process.kill(controller.pid, "SIGUSR2");
      const file = await until(
        "the heap snapshot",
        () => {
          const files = readdirSync(dir).filter((x) => x.endsWith(".heapsnapshot"));
          const fl = files[0] && path.join(dir, files[0]);
          if (!fl) return undefined;
          const s1 = statSync(fl).size;
          return s1 > 0 && Date.now() - statSync(fl).mtimeMs > 3000 ? fl : undefined;
        },
        300_000,
        1000,
      );
      heap = summariseHeapSnapshot(file);
    }

    // Restart.
    ctx.log(`floor: a plain client lists everything, then renews ${f.hosts} Leases for ${f["rest-s"]} s`);
    const floor = await scaleFloor(ctx, f.hosts, f["rest-s"]);

    ctx.log("restarting the controller (SIGTERM, then a new process: full relist)");
    await controller.stop();
    const restartWritesBefore = await apiWrites(kube);
    const restartAt = Date.now();
    controller = startController("controller-2", {
      ...op,
      cpuProfile: false,
      heapSnapshots: false,
      maxOldSpaceMb: f["controller-heap-mb"],
    });
    ctx.procs.push(controller);
    await waitReadyz(port, 600_000);
    const syncedMs = Date.now() - restartAt;
    await until("the restarted controller's queues to drain", () => drained(port), 900_000, 200);
    const convergedMs = Date.now() - restartAt - 500; // drained() looks twice, 500 ms apart
    const restartWrites = diffCounts(await apiWrites(kube), restartWritesBefore);
    const memAfterRestart = memory(controller.pid);
    const reconcilesOnRestart = await metric(port, "controller_runtime_reconcile_total");

    const goal = (ok: boolean): string => (ok ? "met" : "not met");
    console.log(
      `\nFleet: ${f.hosts} hosts, ${f.desktops} desktops, ${sessions} sessions (one controller, one agent)`,
    );
    console.log(
      `built in ${sec(Date.now() - built)}: hosts ${sec(hostsMs)}, desktops ${sec(desktopsMs)}, sessions ${sec(sessionsMs)}`,
    );
    const ratio = (op: number, fl: number): string => (fl > 0 ? `${(op / fl).toFixed(1)}x` : "-");
    const pctS = (v: number): string => `${v.toFixed(2)}%`;
    console.log(
      table([
        ["figure", "operator", "floor (plain client)", "ratio", "goal"],
        [
          "controller RSS at rest",
          mib(memAtRest.controller.rss),
          mib(floor.rss),
          ratio(memAtRest.controller.rss, floor.rss),
          `<= 300 MiB: ${goal(memAtRest.controller.rss <= 300 * 2 ** 20)}`,
        ],
        ["controller peak RSS (build)", mib(memAtRest.controller.hwm), "", "", ""],
        [
          `agent RSS at rest (${f.hosts} hosts)`,
          mib(memAtRest.agent.rss),
          mib(floor.rss),
          ratio(memAtRest.agent.rss, floor.rss),
          `<= 300 MiB: ${goal(memAtRest.agent.rss <= 300 * 2 ** 20)}`,
        ],
        ["agent peak RSS (build)", mib(memAtRest.agent.hwm), "", "", ""],
        [
          `controller CPU at rest (${rest.wall.toFixed(0)} s, % of a core)`,
          pctS(pct("controller")),
          "0 (holds a cache)",
          "",
          `<= 2%: ${goal(pct("controller") <= 2)}`,
        ],
        [
          "agent CPU at rest (% of a core)",
          pctS(pct("agent")),
          pctS(floor.cpuPct),
          ratio(pct("agent"), floor.cpuPct),
          "heartbeats cost what node leases cost",
        ],
        [
          "apiserver + etcd CPU at rest",
          pctS(pct("apiserver") + pct("etcd")),
          pctS(floor.serverCpuPct),
          ratio(pct("apiserver") + pct("etcd"), floor.serverCpuPct),
          "",
        ],
        [
          "API writes/s at rest",
          (sumCounts(restWrites) / rest.wall).toFixed(1),
          (f.hosts / 10).toFixed(1),
          ratio(sumCounts(restWrites) / rest.wall, f.hosts / 10),
          "",
        ],
        ["controller reconciles/s at rest", (restReconciles / rest.wall).toFixed(1), "", "", ""],
        ["restart: informers synced", sec(syncedMs), sec(floor.listMs), ratio(syncedMs, floor.listMs), ""],
        [
          "restart: converged (queues drained)",
          sec(convergedMs),
          sec(floor.listMs),
          ratio(convergedMs, floor.listMs),
          "",
        ],
        [
          "restart: reconciles / API writes",
          `${reconcilesOnRestart} / ${sumCounts(restartWrites, (k) => !k.includes("leases"))} (+leases)`,
          "",
          "",
          "",
        ],
        ["controller RSS after restart", mib(memAfterRestart.rss), "", "", ""],
      ]),
    );
    console.log(
      `floor: a plain client LISTed ${floor.objects} objects (everything the controller caches) in ${sec(floor.listMs)} ` +
        `and held them in ${mib(floor.rss)}; renewing ${f.hosts} Leases every 10 s it used ${pctS(floor.cpuPct)} of a core`,
    );
    console.log("controller reconciles at rest:");
    for (const l of formatControllerReport(restByController, rest.wall)) console.log(l);
    console.log(`load average at rest: ${restLoad}; now ${load()}`);
    console.log("API writes at rest (top):");
    for (const [k, v] of [...restWrites].slice(0, 8))
      console.log(`  ${(v / rest.wall).toFixed(1).padStart(7)}/s  ${k}`);
    if (restartWrites.size) {
      console.log("API writes during the restart (top):");
      for (const [k, v] of [...restartWrites].slice(0, 8)) console.log(`  ${String(v).padStart(7)}  ${k}`);
    }
    if (heap) {
      console.log(
        `\ncontroller heap snapshot at rest: ${mib(heap.totalBytes)} of objects; self size by constructor:`,
      );
      for (const [k, s, c] of heap.top)
        console.log(`  ${mib(s).padStart(8)}  ${String(c).padStart(8)} x ${k}`);
    }
    ctx.record("scale", {
      hosts: f.hosts,
      desktops: f.desktops,
      sessions,
      buildMs: { hosts: hostsMs, desktops: desktopsMs, sessions: sessionsMs },
      memAtRest,
      memAfterRestart,
      restCpuPct: Object.fromEntries(Object.keys(rest.cpu).map((k) => [k, pct(k)])),
      restWall: rest.wall,
      restLoad,
      restWrites: Object.fromEntries(restWrites),
      restReconciles,
      restart: {
        syncedMs,
        convergedMs,
        reconciles: reconcilesOnRestart,
        writes: Object.fromEntries(restartWrites),
      },
      heap,
      floor,
      restByController,
    });
  },
);
