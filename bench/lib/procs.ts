// The controller and simulated agents as real processes (`node --import tsx src/cli/main.ts`,
// one process each, as the integration tests run them), and what /proc says about them.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { createWriteStream, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { repo } from "./cluster.js";

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly child: ChildProcess;
  readonly startedAt: number;
  /** SIGTERM (graceful: --cpu-prof profiles are written on exit), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
  kill(): Promise<void>;
  exited(): boolean;
  tail(lines?: number): string;
}

export interface SpawnOptions {
  kubeconfig: string;
  outDir: string;
  /** "tsx": the TypeScript sources through tsx (as the integration tests run them); "dist": compiled JS (as deployed). */
  runner?: "tsx" | "dist";
  /** Write a V8 CPU profile into outDir/profiles on exit. */
  cpuProfile?: boolean;
  /** `kill -USR2 <pid>` writes a heap snapshot into outDir/heap. */
  heapSnapshots?: boolean;
  /** V8's old-space limit in MiB (`--max-old-space-size`); unset: V8's default for the machine. */
  maxOldSpaceMb?: number;
}

export function spawnGriddesk(name: string, args: string[], opts: SpawnOptions): Proc {
  mkdirSync(opts.outDir, { recursive: true });
  const logFile = path.join(opts.outDir, `${name}.log`);
  const out = createWriteStream(logFile);
  const nodeFlags: string[] = [];
  if (opts.cpuProfile) {
    const dir = path.join(opts.outDir, "profiles");
    mkdirSync(dir, { recursive: true });
    nodeFlags.push("--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}.cpuprofile`);
  }
  if (opts.maxOldSpaceMb) nodeFlags.push(`--max-old-space-size=${opts.maxOldSpaceMb}`);
  let cwd = repo;
  if (opts.heapSnapshots) {
    cwd = path.join(opts.outDir, "heap");
    mkdirSync(cwd, { recursive: true });
    nodeFlags.push("--heapsnapshot-signal=SIGUSR2");
  }
  const node = path.join(repo, "node_modules/.bin/node");
  const entry =
    opts.runner === "dist"
      ? [path.join(distDir, "cli/main.js")]
      : ["--import", "tsx", path.join(repo, "src/cli/main.ts")];
  const child = spawn(node, [...nodeFlags, ...entry, ...args], {
    cwd,
    env: { ...process.env, KUBECONFIG: opts.kubeconfig },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const alive = (): boolean => child.exitCode === null && child.signalCode === null;
  return {
    name,
    pid: child.pid as number,
    logFile,
    child,
    startedAt: Date.now(),
    exited: () => !alive(),
    async stop(graceMs = 15_000) {
      if (!alive()) return;
      child.kill("SIGTERM");
      const t = setTimeout(() => alive() && child.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(t);
    },
    async kill() {
      if (alive()) child.kill("SIGKILL");
      await exited;
    },
    tail(lines = 20) {
      try {
        return readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n");
      } catch {
        return "";
      }
    },
  };
}

/** Where `buildDist` compiles the sources (not dist/, which `npm run build` owns). */
export const distDir = path.join(repo, ".griddesk", "bench-dist");

/** Compiles src/ with tsconfig.build.json into distDir, so processes run as deployed. */
export async function buildDist(): Promise<void> {
  const tsc = path.join(repo, "node_modules/.bin/tsc");
  await new Promise<void>((resolve, reject) => {
    const child = spawn(tsc, ["-p", path.join(repo, "tsconfig.build.json"), "--outDir", distDir], {
      cwd: repo,
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.once("exit", (code) => (code === 0 ? resolve() : reject(new Error(`tsc exited with ${code}`))));
  });
}

/** Resident and peak resident memory in bytes (VmRSS, VmHWM of /proc/<pid>/status). */
export function memory(pid: number): { rss: number; hwm: number } {
  const text = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number =>
    Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
}

/** CPU seconds used so far (utime + stime of /proc/<pid>/stat; clock ticks are 1/100 s on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) / 100;
}

/** CPU seconds of several processes; a process that has exited counts as its last reading. */
export class CpuMeter {
  private readonly start = new Map<number, number>();
  private readonly last = new Map<number, number>();
  private readonly t0 = Date.now();

  constructor(private readonly pids: Record<string, number>) {
    for (const pid of Object.values(pids)) {
      const s = safeCpu(pid) ?? 0;
      this.start.set(pid, s);
      this.last.set(pid, s);
    }
  }

  /** CPU seconds since construction, per name, and the wall seconds elapsed. */
  read(): { wall: number; cpu: Record<string, number> } {
    const cpu: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids)) {
      const now = safeCpu(pid);
      if (now !== undefined) this.last.set(pid, now);
      cpu[name] = (this.last.get(pid) ?? 0) - (this.start.get(pid) ?? 0);
    }
    return { wall: (Date.now() - this.t0) / 1000, cpu };
  }
}

function safeCpu(pid: number): number | undefined {
  try {
    return cpuSeconds(pid);
  } catch {
    return undefined;
  }
}

/** The port a griddesk process serves /metrics on, from its log ("port":N or "metricsPort":N). */
export async function servedPort(p: Proc, timeoutMs = 60_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = /"(?:port|healthPort)":(\d+)/.exec(p.tail(400));
    if (m) return Number(m[1]);
    if (p.exited()) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${p.name} never said which port it serves; log:\n${p.tail()}`);
}

/** A TCP port free right now on 127.0.0.1 (for a process's metrics server). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

/** Samples of a Prometheus text exposition, by metric name and one label's value ("" without it). */
export async function scrapeBy(port: number, label = ""): Promise<Map<string, Map<string, number>>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, Map<string, number>>();
  const labelRe = label ? new RegExp(`[{,]${label}="([^"]*)"`) : undefined;
  for (const line of text.split("\n")) {
    if (!line || line.startsWith("#")) continue;
    const name = line.slice(0, line.search(/[{ ]/));
    const key = labelRe?.exec(line)?.[1] ?? "";
    const byLabel = out.get(name) ?? new Map<string, number>();
    byLabel.set(key, (byLabel.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
    out.set(name, byLabel);
  }
  return out;
}

/** Samples of a Prometheus text exposition, summed over label sets per metric name. */
export async function scrape(port: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const [name, byLabel] of await scrapeBy(port))
    out.set(
      name,
      [...byLabel.values()].reduce((a, b) => a + b, 0),
    );
  return out;
}

/** Per controller (and its queue): counters to diff between two moments. */
export type ControllerCounters = Record<string, Record<string, number>>;

export async function controllerReport(port: number): Promise<ControllerCounters> {
  const m = await scrapeBy(port, "(?:controller|name)");
  const get = (metric: string, c: string): number => m.get(metric)?.get(c) ?? 0;
  const out: ControllerCounters = {};
  for (const c of m.get("controller_runtime_reconcile_total")?.keys() ?? []) {
    out[c] = {
      reconciles: get("controller_runtime_reconcile_total", c),
      errors: get("controller_runtime_reconcile_errors_total", c),
      queueS: get("workqueue_queue_duration_seconds_sum", c),
      queued: get("workqueue_queue_duration_seconds_count", c),
      workS: get("controller_runtime_reconcile_time_seconds_sum", c),
    };
  }
  return out;
}

/** after − before, per controller and counter. */
export function diffControllers(after: ControllerCounters, before: ControllerCounters): ControllerCounters {
  return Object.fromEntries(
    Object.entries(after).map(([c, v]) => [
      c,
      Object.fromEntries(Object.entries(v).map(([k, n]) => [k, n - (before[c]?.[k] ?? 0)])),
    ]),
  );
}

/** Lines for the console: reconciles, errors, mean wait in the queue and mean reconcile time. */
export function formatControllerReport(r: ControllerCounters, seconds?: number): string[] {
  return Object.entries(r)
    .filter(([, v]) => (v.reconciles ?? 0) > 0)
    .map(([c, v]) => {
      const n = v.reconciles ?? 0;
      const rate = seconds ? ` (${(n / seconds).toFixed(1)}/s)` : "";
      const wait = v.queued ? (1000 * (v.queueS ?? 0)) / v.queued : 0;
      return (
        `  ${c.padEnd(20)} ${String(n).padStart(7)} reconciles${rate}, ${v.errors ?? 0} errors, ` +
        `mean wait in queue ${Math.round(wait)} ms, mean reconcile ${Math.round((1000 * (v.workS ?? 0)) / (n || 1))} ms`
      );
    });
}
