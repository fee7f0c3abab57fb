// Runs griddesk components as real child processes (so tests can SIGKILL them), from the
// TypeScript sources through tsx. Output goes to a log file per process, named in failures.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { eventually } from "./cluster.js";

const repo = new URL("../../../", import.meta.url).pathname;
const logDir = mkdtempSync(path.join(tmpdir(), "griddesk-test-logs-"));
let counter = 0;

export interface GriddeskProcess {
  readonly name: string;
  readonly logFile: string;
  readonly child: ChildProcess;
  /** Sends `signal` and waits for the process to exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** The last lines of its log, for failure messages. */
  tail(lines?: number): string;
}

export function startGriddesk(name: string, args: string[]): GriddeskProcess {
  // `node --import tsx` (not the tsx binary, which forks a second process that a SIGKILL
  // would orphan): one process per component, as in production.
  const node = path.join(repo, "node_modules/.bin/node");
  return startProcess(name, node, ["--import", "tsx", path.join(repo, "src/cli/main.ts"), ...args]);
}

/** Any program as a child process of the test, its output in a log file of its own. */
export function startProcess(name: string, file: string, args: string[]): GriddeskProcess {
  const logFile = path.join(logDir, `${String(++counter).padStart(2, "0")}-${name}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(file, args, { cwd: repo, env: { ...process.env }, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.pipe(out);
  child.stderr?.pipe(out);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    name,
    logFile,
    child,
    async kill(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
    tail(lines = 30) {
      return readLog(logFile).split("\n").slice(-lines).join("\n");
    },
  };
}

function readLog(logFile: string): string {
  try {
    return readFileSync(logFile, "utf8");
  } catch {
    return "";
  }
}

/** Stops every process still running (for afterAll). */
export async function stopAll(procs: readonly (GriddeskProcess | undefined)[]): Promise<void> {
  await Promise.all(procs.map((p) => p?.kill("SIGKILL")));
}

/**
 * The port a griddesk process serves /metrics on, from its "serving" log line. The whole log is
 * read: that line comes early, and a busy process soon logs hundreds of lines after it.
 */
export async function servedPort(proc: GriddeskProcess, timeoutMs = 30_000): Promise<number> {
  const port = await eventually(
    `${proc.name} to say which port it serves`,
    () => /"port":(\d+)/.exec(readLog(proc.logFile))?.[1],
    timeoutMs,
    100,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; log:\n${proc.tail()}`);
  });
  return Number(port);
}

/** Sum of a Prometheus counter's samples (all label sets) from a process's /metrics. */
export async function metricSum(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n"))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.split(" ").pop());
  return sum;
}
