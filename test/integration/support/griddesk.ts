// Building blocks for end-to-end tests: griddesk objects through the real API server, and the
// controller and simulated agents as real processes.
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import type {
  Desktop,
  DesktopPool,
  DesktopProfile,
  DesktopSession,
  HostNode,
} from "../../../src/api/types.generated.js";
import { Resources } from "../../../src/controllers/shared/resources.js";
import { ObjectClient, RestClient } from "../../../src/runtime/index.js";
import { deleteNamespace, kubeConfig } from "./cluster.js";
import { startGriddesk, stopAll, type GriddeskProcess } from "./processes.js";

/** Where the tests' simulated pools say their image is: the root their agents allow. */
export const IMAGE_ROOT = "/srv/images";

export const IMAGE = {
  source: "file:///srv/images/golden.qcow2",
  sha256: "b".repeat(64),
  format: "qcow2" as const,
};

export function clients() {
  const rest = new RestClient(kubeConfig());
  return {
    rest,
    pools: new ObjectClient<DesktopPool>(rest, Resources.DesktopPool),
    desktops: new ObjectClient<Desktop>(rest, Resources.Desktop),
    sessions: new ObjectClient<DesktopSession>(rest, Resources.DesktopSession),
    hosts: new ObjectClient<HostNode>(rest, Resources.HostNode),
    profiles: new ObjectClient<DesktopProfile>(rest, Resources.DesktopProfile),
  };
}

/** A short random suffix so cluster-scoped names (hosts) never clash between test files. */
export const uniq = (): string => randomBytes(3).toString("hex");

export function poolObject(namespace: string, name: string, spec: Partial<DesktopPool["spec"]>): DesktopPool {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: { name, namespace },
    spec: { image: IMAGE, resources: { cpu: "2", memory: "4Gi", disk: "20Gi" }, max: 100, ...spec },
  };
}

export function sessionObject(namespace: string, pool: string, user: string): DesktopSession {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopSession",
    metadata: { name: user.replace(/[^a-z0-9-]/g, "-"), namespace },
    spec: { poolRef: pool, user },
  };
}

export interface ControllerArgs {
  systemNamespace: string;
  gracePeriodSeconds?: number;
  leaderElect?: boolean;
  extra?: string[];
}

export function startControllerProcess(name: string, a: ControllerArgs): GriddeskProcess {
  return startGriddesk(name, [
    "controller",
    "--system-namespace",
    a.systemNamespace,
    "--metrics-bind-address",
    "127.0.0.1:0",
    "--host-grace-period",
    String(a.gracePeriodSeconds ?? 8),
    ...(a.leaderElect ? ["--leader-elect"] : []),
    ...(a.extra ?? []),
  ]);
}

export interface AgentArgs {
  systemNamespace: string;
  hosts: string[];
  stateDir: string;
  labels?: Record<string, string>;
  provisionMs?: number;
  /** The directories the admin allows sources in (default: IMAGE_ROOT, where IMAGE is). */
  sourceRoots?: string[];
  extra?: string[];
}

export function startSimulatedAgent(name: string, a: AgentArgs): GriddeskProcess {
  const labels = Object.entries(a.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return startGriddesk(name, [
    "agent",
    "--adapter",
    "simulated",
    "--name",
    name,
    "--hosts",
    a.hosts.join(","),
    "--state-dir",
    a.stateDir,
    "--system-namespace",
    a.systemNamespace,
    "--health-probe-bind-address",
    "127.0.0.1:0",
    "--lease-duration",
    "8",
    "--lease-renew-interval",
    "2",
    "--orphan-collection-interval",
    "5",
    "--simulated-provision-ms",
    String(a.provisionMs ?? 300),
    // The admin's source policy, as for any agent: the simulated hosts judge sources like real ones.
    ...(a.sourceRoots ?? [IMAGE_ROOT]).flatMap((root) => ["--allow-source-root", root]),
    ...(labels ? ["--host-labels", labels] : []),
    ...(a.extra ?? []),
  ]);
}

export function tempStateDir(): string {
  return mkdtempSync(path.join(tmpdir(), "griddesk-sim-state-"));
}

/** VM owners (desktop uids) recorded in a simulated agent's state directory: what "the hosts" run. */
export function simulatedVmUids(stateDir: string): string[] {
  const uids: string[] = [];
  for (const file of readdirSync(stateDir).filter((f) => f.endsWith(".json"))) {
    const doc = JSON.parse(readFileSync(path.join(stateDir, file), "utf8")) as {
      vms: { owner?: { uid: string } }[];
    };
    for (const vm of doc.vms) if (vm.owner) uids.push(vm.owner.uid);
  }
  return uids.sort();
}

/** Runs fn over items, at most `limit` at once. */
export async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

/** Removes what an end-to-end test made: its processes (SIGKILLed), namespaces and HostNodes. */
export async function tearDown(
  procs: readonly (GriddeskProcess | undefined)[],
  namespaces: readonly string[],
  hosts: readonly string[],
): Promise<void> {
  await stopAll(procs);
  for (const ns of namespaces) await deleteNamespace(ns);
  const c = clients();
  for (const name of hosts) await c.hosts.delete({ name }).catch(() => undefined);
}
