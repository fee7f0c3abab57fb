// `npm run bench:scale`: a fleet held by one controller — D desktops, S sessions bound to them,
// H simulated hosts served by one agent process. Once it is built and quiet it measures:
//   - resident memory (VmRSS) of the controller and of the agent;
//   - CPU at rest over --rest-s (utime+stime from /proc), and the API writes made meanwhile
//     (heartbeats: one Lease renewal per host per interval, as Kubernetes node leases cost);
//   - a controller restart: time from the new process's start to informers synced (full
//     relist) and to every work queue drained, and the writes that restart caused.
import { createServer } from "node:net";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { commonFlags, parseFlags } from "./lib/args.js";
import { apiWrites, createNamespace, diffCounts, sumCounts } from "./lib/cluster.js";
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
import { CpuMeter, memory, scrape, type Proc } from "./lib/procs.js";
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
    ...commonFlags,
    runner: {
      default: "dist",
      help: "dist: compiled JS, as deployed (memory figures); tsx: from the sources",
    },
    "port-base": { default: 46463, help: "API server port; etcd +1/+2, controller-manager +3" },
  },
);

const NS = "bench";
const sessions = Math.min(f.sessions, f.desktops);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

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

/** Every work queue empty and no reconcile running, twice in a row 500 ms apart, after `minReconciles`. */
async function drained(port: number, minReconciles: number): Promise<boolean> {
  for (let i = 0; i < 2; i++) {
    const m = await scrape(port).catch(() => undefined);
    if (!m) return false;
    const busy = (m.get("workqueue_depth") ?? 1) + (m.get("controller_runtime_active_workers") ?? 1);
    if (busy > 0 || (m.get("controller_runtime_reconcile_total") ?? 0) < minReconciles) return false;
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
    let controller: Proc = startController("controller", op);
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
    await until("controller queues drained", () => drained(port, 0), 600_000, 1000);
    await sleep(10_000);

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
    ctx.log(`measuring CPU at rest for ${f["rest-s"]} s`);
    await sleep(f["rest-s"] * 1000);
    const rest = cpu.read();
    const restReconciles = (await metric(port, "controller_runtime_reconcile_total")) - reconcilesBefore;
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
    ctx.log("restarting the controller (SIGTERM, then a new process: full relist)");
    await controller.stop();
    const restartWritesBefore = await apiWrites(kube);
    const objects = f.desktops + sessions + 2 * f.hosts + 1;
    const restartAt = Date.now();
    controller = startController("controller-2", { ...op, cpuProfile: false, heapSnapshots: false });
    ctx.procs.push(controller);
    await waitReadyz(port, 600_000);
    const syncedMs = Date.now() - restartAt;
    await until("the restarted controller's queues to drain", () => drained(port, objects), 900_000, 200);
    const convergedMs = Date.now() - restartAt - 1000; // drained() looks twice over 500 ms (+ a scrape)
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
    console.log(
      table([
        ["figure", "value", "goal"],
        [
          "controller RSS at rest",
          mib(memAtRest.controller.rss),
          `<= 300 MiB: ${goal(memAtRest.controller.rss <= 300 * 2 ** 20)}`,
        ],
        ["controller peak RSS (build)", mib(memAtRest.controller.hwm), ""],
        [
          "agent RSS at rest",
          mib(memAtRest.agent.rss),
          `<= 300 MiB: ${goal(memAtRest.agent.rss <= 300 * 2 ** 20)}`,
        ],
        ["agent peak RSS (build)", mib(memAtRest.agent.hwm), ""],
        [
          `controller CPU at rest (${rest.wall.toFixed(0)} s)`,
          `${pct("controller").toFixed(2)}% of a core`,
          `<= 2%: ${goal(pct("controller") <= 2)}`,
        ],
        ["agent CPU at rest", `${pct("agent").toFixed(2)}% of a core`, ""],
        ["apiserver + etcd CPU at rest", `${(pct("apiserver") + pct("etcd")).toFixed(1)}% of a core`, ""],
        [
          "API writes/s at rest",
          (sumCounts(restWrites) / rest.wall).toFixed(1),
          `heartbeats alone: ${(f.hosts / 10).toFixed(0)}/s`,
        ],
        ["controller reconciles/s at rest", (restReconciles / rest.wall).toFixed(1), ""],
        ["restart: informers synced", sec(syncedMs), ""],
        ["restart: queues drained (converged)", sec(convergedMs), ""],
        [
          "restart: reconciles / API writes",
          `${reconcilesOnRestart} / ${sumCounts(restartWrites, (k) => !k.includes("leases"))} (+leases)`,
          "",
        ],
        ["controller RSS after restart", mib(memAfterRestart.rss), ""],
      ]),
    );
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
    });
  },
);
