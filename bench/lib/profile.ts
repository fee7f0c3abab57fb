// Reading V8 CPU profiles (.cpuprofile) and heap snapshots (.heapsnapshot) well enough to say
// where the time and the memory go, without a browser: top functions by self time (and the
// files they live in), and heap retained by constructor name (self sizes).
import { readFileSync } from "node:fs";
import path from "node:path";
import { repo } from "./cluster.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

export interface ProfileSummary {
  totalMs: number;
  idlePct: number;
  top: { what: string; selfPct: number }[];
  byFile: { file: string; selfPct: number }[];
}

function shortUrl(url: string): string {
  const u = url.replace(/^file:\/\//, "");
  if (u.startsWith(repo)) return path.relative(repo, u).replace(/^node_modules\//, "npm:");
  return u || "(native)";
}

export function summariseCpuProfile(file: string, topN = 12): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, "utf8")) as {
    nodes: ProfileNode[];
    startTime: number;
    endTime: number;
    samples: number[];
    timeDeltas: number[];
  };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i] as number;
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i + 1] ?? prof.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const files = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of self) {
    const n = byId.get(id) as ProfileNode;
    const name = n.callFrame.functionName || "(anonymous)";
    total += us;
    if (name === "(idle)") {
      idle += us;
      continue;
    }
    const url = shortUrl(n.callFrame.url);
    const key = `${name} ${url}${n.callFrame.url ? `:${n.callFrame.lineNumber + 1}` : ""}`;
    fn.set(key, (fn.get(key) ?? 0) + us);
    const f = url.startsWith("npm:")
      ? url
          .split("/")
          .slice(0, url.startsWith("npm:@") ? 2 : 1)
          .join("/")
      : url;
    files.set(f, (files.get(f) ?? 0) + us);
  }
  const busy = total - idle || 1;
  const pct = (us: number): number => Math.round((1000 * us) / busy) / 10;
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, topN);
  return {
    totalMs: Math.round(total / 1000),
    idlePct: Math.round((1000 * idle) / (total || 1)) / 10,
    top: sorted(fn).map(([what, us]) => ({ what, selfPct: pct(us) })),
    byFile: sorted(files).map(([file, us]) => ({ file, selfPct: pct(us) })),
  };
}

export function printCpuProfile(label: string, s: ProfileSummary): void {
  console.log(`\nCPU profile of ${label}: ${s.totalMs} ms sampled, ${s.idlePct}% idle; of the busy time:`);
  for (const t of s.top) console.log(`  ${String(t.selfPct).padStart(5)}%  ${t.what}`);
  console.log("  by file / package:");
  for (const f of s.byFile) console.log(`  ${String(f.selfPct).padStart(5)}%  ${f.file}`);
}

/** Self size by constructor (or node type for non-objects), largest first. */
export function summariseHeapSnapshot(
  file: string,
  topN = 15,
): { totalBytes: number; top: [string, number, number][] } {
  const snap = JSON.parse(readFileSync(file, "utf8")) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf("type");
  const iName = fields.indexOf("name");
  const iSize = fields.indexOf("self_size");
  const by = new Map<string, [number, number]>();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType] as number] as string;
    const size = snap.nodes[i + iSize] as number;
    total += size;
    const key =
      type === "object" || type === "closure"
        ? (snap.strings[snap.nodes[i + iName] as number] ?? "?")
        : `(${type})`;
    const e = by.get(key) ?? [0, 0];
    e[0] += size;
    e[1]++;
    by.set(key, e);
  }
  const top = [...by]
    .sort((a, b) => b[1][0] - a[1][0])
    .slice(0, topN)
    .map(([k, [s, c]]) => [k, s, c] as [string, number, number]);
  return { totalBytes: total, top };
}
