// What every benchmark does around its measurement: a fresh control plane with the CRDs and
// namespaces, an output directory, the operator's processes, and always the teardown — even when
// the measurement fails or the run is interrupted.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { clusterUp, createNamespace, installCrds, repo, type Cluster } from "./cluster.js";
import { SYSTEM_NS } from "./griddesk.js";
import { printCpuProfile, summariseCpuProfile } from "./profile.js";
import { buildDist, distDir, type Proc } from "./procs.js";
import { load, machine } from "./stats.js";

export interface BenchContext {
  name: string;
  cluster: Cluster;
  outDir: string;
  procs: Proc[];
  log(msg: string): void;
  /** Adds to results.json (written at the end). */
  record(key: string, value: unknown): void;
}

export interface RunOptions {
  name: string;
  clusterDir: string;
  portBase: number;
  keepCluster: boolean;
  clientSockets: number;
  outDir: string;
  profile: boolean;
  /** "dist" compiles src/ first (see procs.ts buildDist). */
  runner?: string;
}

export async function runBench(o: RunOptions, body: (ctx: BenchContext) => Promise<void>): Promise<void> {
  const t0 = Date.now();
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const outDir = o.outDir || path.join(repo, ".griddesk", "bench-out", `${o.name}-${stamp}`);
  mkdirSync(outDir, { recursive: true });
  const log = (msg: string): void =>
    console.log(`[${o.name} +${((Date.now() - t0) / 1000).toFixed(1)}s ${load()}] ${msg}`);
  const results: Record<string, unknown> = {
    bench: o.name,
    startedAt: new Date(t0).toISOString(),
    machine: machine(),
  };
  const procs: Proc[] = [];
  let cluster: Cluster | undefined;
  let interrupted = false;
  const teardown = async (): Promise<void> => {
    await Promise.all(procs.map((p) => p.stop(5_000)));
    await cluster?.down();
  };
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log("interrupted: tearing down");
    void teardown().finally(() => process.exit(130));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    cluster = await clusterUp({
      dir: o.clusterDir || path.join(repo, ".griddesk", `bench-${o.name}`),
      portBase: o.portBase,
      keep: o.keepCluster,
      clientSockets: o.clientSockets,
      log,
    });
    results.kubernetes = cluster.version;
    if (o.runner === "dist") {
      log(`compiling src/ into ${distDir} (--runner dist)`);
      await buildDist();
    }
    await installCrds(cluster);
    await createNamespace(cluster.kube, SYSTEM_NS);
    log(`logs and results in ${outDir}`);
    await body({
      name: o.name,
      cluster,
      outDir,
      procs,
      log,
      record: (k, v) => void (results[k] = v),
    });
  } catch (err) {
    console.error(`\n${o.name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    for (const p of procs) console.error(`--- last lines of ${p.name} (${p.logFile}):\n${p.tail(15)}`);
    process.exitCode = 1;
  } finally {
    await teardown();
    results.finishedAt = new Date().toISOString();
    writeFileSync(path.join(outDir, "results.json"), JSON.stringify(results, null, 2));
    if (o.profile) printProfiles(outDir);
    log(`done; results in ${path.join(outDir, "results.json")}`);
  }
}

function printProfiles(outDir: string): void {
  const dir = path.join(outDir, "profiles");
  if (!existsSync(dir)) return;
  for (const f of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    try {
      printCpuProfile(f, summariseCpuProfile(path.join(dir, f)));
    } catch (err) {
      console.warn(`could not read ${f}: ${String(err)}`);
    }
  }
}
