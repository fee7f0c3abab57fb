// Figures: percentiles, the machine, load average, and a fixed-width table.
import { cpus, loadavg, totalmem } from "node:os";
import { readFileSync } from "node:fs";

/** Nearest-rank percentile of `values` (need not be sorted); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export interface Latencies {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function latencies(values: readonly number[]): Latencies {
  return {
    count: values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
  };
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${Math.round(v)} ms` : "-");
export const sec = (v: number): string => (Number.isFinite(v) ? `${(v / 1000).toFixed(1)} s` : "-");
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/** "1m load 3.2 (2 cores)" — to print beside every figure on a shared machine. */
export function load(): string {
  const [one, five] = loadavg();
  return `load ${one?.toFixed(2)}/${five?.toFixed(2)}`;
}

export function machine(): Record<string, string> {
  const model = cpus()[0]?.model ?? "unknown";
  let kernel = "";
  try {
    kernel = readFileSync("/proc/sys/kernel/osrelease", "utf8").trim();
  } catch {
    /* not Linux */
  }
  return {
    cpu: `${cpus().length} x ${model}`,
    memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    kernel,
    node: process.version,
  };
}

/** Prints rows as an aligned table (first row is the header). */
export function table(rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map(String));
  const widths = cells[0]?.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length))) ?? [];
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(cells[0] ?? []), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join(
    "\n",
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` every `intervalMs` until truthy; throws after `timeoutMs` naming `what`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${sec(timeoutMs)} waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await sleep(intervalMs);
  }
}
