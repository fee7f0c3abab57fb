// A fresh control plane per benchmark run, through the project's own scripts
// (hack/cluster-up.sh / cluster-down.sh), in its own directory and on its own ports.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { Kube, loadTarget } from "./kube.js";

const run = promisify(execFile);
export const repo = path.resolve(new URL("../../", import.meta.url).pathname);

export interface Cluster {
  dir: string;
  kubeconfig: string;
  kubectl: string;
  kube: Kube;
  /** kube-apiserver and etcd, for CPU accounting. */
  pids: { apiserver: number; etcd: number };
  version: string;
  down(): Promise<void>;
}

export async function clusterUp(opts: {
  dir: string;
  portBase: number;
  keep: boolean;
  clientSockets: number;
  log: (msg: string) => void;
}): Promise<Cluster> {
  const started = Date.now();
  let env: NodeJS.ProcessEnv = {};
  let stdout = "";
  // The ports lie in the kernel's ephemeral range (32768-60999 by default), where another
  // process's outgoing connection may hold one (another control plane's etcd client, say):
  // take the first base from --port-base on, in steps of 10, whose four ports are free.
  let base = opts.portBase;
  for (let attempt = 1; ; attempt++) {
    base = await freePortBase(base);
    env = { ...process.env, GRIDDESK_CLUSTER_DIR: opts.dir, GRIDDESK_PORT_BASE: String(base) };
    // A leftover from an interrupted run would be reused half-configured: start clean.
    if (existsSync(opts.dir)) await run(path.join(repo, "hack/cluster-down.sh"), [], { env });
    opts.log(`starting control plane in ${opts.dir} (port ${base}; first run builds binaries)`);
    try {
      ({ stdout } = await run(path.join(repo, "hack/cluster-up.sh"), [], { env, maxBuffer: 16 * 2 ** 20 }));
      break;
    } catch (err) {
      if (attempt >= 3 || !/address already in use/.test(String(err))) throw err;
      opts.log(`a port was taken meanwhile; trying another base`);
      await run(path.join(repo, "hack/cluster-down.sh"), [], { env });
      base += 10;
    }
  }
  const m = /KUBECONFIG=(\S+)/.exec(stdout);
  if (!m?.[1]) throw new Error(`cluster-up printed no KUBECONFIG: ${stdout}`);
  const kubeconfig = m[1];
  const kubectl = path.join(opts.dir, "bin", "kubectl");
  const pid = (name: string): number =>
    Number(readFileSync(path.join(opts.dir, "run", `${name}.pid`), "utf8"));
  const kube = new Kube(loadTarget(kubeconfig), opts.clientSockets);
  const version = ((await kube.get("/version")) as { gitVersion: string }).gitVersion;
  opts.log(`control plane ${version} up in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return {
    dir: opts.dir,
    kubeconfig,
    kubectl,
    kube,
    pids: { apiserver: pid("kube-apiserver"), etcd: pid("etcd") },
    version,
    async down() {
      kube.close();
      if (opts.keep) {
        opts.log(`leaving the control plane running: export KUBECONFIG=${kubeconfig}`);
        return;
      }
      await run(path.join(repo, "hack/cluster-down.sh"), [], { env });
    },
  };
}

/** Whether 127.0.0.1:port can be listened on right now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** The first base from `from` on (in steps of 10) whose ports base..base+3 are all free. */
async function freePortBase(from: number): Promise<number> {
  for (let base = from; base < from + 200; base += 10) {
    const free = await Promise.all([0, 1, 2, 3].map((i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no four free ports from ${from} to ${from + 200}`);
}

/** Applies crds/ and waits until they are Established. */
export async function installCrds(c: Cluster): Promise<void> {
  const dir = path.join(repo, "crds");
  const env = { ...process.env, KUBECONFIG: c.kubeconfig };
  await run(c.kubectl, ["apply", "--server-side", "--force-conflicts", "-f", dir], { env });
  await run(c.kubectl, ["wait", "--for=condition=Established", "--timeout=60s", "-f", dir], { env });
}

export async function createNamespace(kube: Kube, name: string): Promise<void> {
  await kube.request("POST", "/api/v1/namespaces", {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name },
  });
}

/** Deletes a namespace and waits until it is gone (so the next phase starts on a quiet server). */
export async function deleteNamespace(
  kube: Kube,
  name: string,
  collections: readonly string[] = [],
  timeoutMs = 300_000,
): Promise<void> {
  // The namespace controller deletes objects one by one at its client's 20 QPS: delete the
  // big collections ourselves, one request each, first.
  for (const c of collections) await kube.request("DELETE", c).catch(() => undefined);
  await kube.request("DELETE", `/api/v1/namespaces/${name}`).catch(() => undefined);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await kube.get(`/api/v1/namespaces/${name}`);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Mutating requests the API server has served, by resource and verb, from its own /metrics
 * (apiserver_request_total): the same count for the operator and for the floor. Refused ones
 * (a conflict, a failed patch test) are counted apart, under their status code.
 */
export async function apiWrites(kube: Kube): Promise<Map<string, number>> {
  const text = await kube.text("/metrics");
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const labels = Object.fromEntries(
      [...line.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]),
    );
    if (!["POST", "PUT", "PATCH", "DELETE", "APPLY"].includes(labels.verb ?? "")) continue;
    const refused = labels.code !== undefined && !labels.code.startsWith("2") ? ` (${labels.code})` : "";
    const key = `${labels.verb} ${labels.resource}${labels.subresource ? "/" + labels.subresource : ""}${refused}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return out;
}

export function diffCounts(after: Map<string, number>, before: Map<string, number>): Map<string, number> {
  const d = new Map<string, number>();
  for (const [k, v] of after) {
    const n = v - (before.get(k) ?? 0);
    if (n > 0) d.set(k, n);
  }
  return new Map([...d].sort((a, b) => b[1] - a[1]));
}

export function sumCounts(m: Map<string, number>, filter: (key: string) => boolean = () => true): number {
  let s = 0;
  for (const [k, v] of m) if (filter(k)) s += v;
  return s;
}
