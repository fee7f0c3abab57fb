// griddesk objects and processes as the benchmarks use them: one pool of small desktops on
// simulated hosts, sessions named after users, and the controller and agent command lines.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Kube } from "./kube.js";
import { spawnGriddesk, type Proc, type SpawnOptions } from "./procs.js";

export const GROUP_PATH = "/apis/griddesk.io/v1alpha1";
export const SYSTEM_NS = "griddesk-system";

export const IMAGE = { source: "file:///srv/images/bench.qcow2", sha256: "c".repeat(64), format: "qcow2" };
/** Small enough that 100 simulated hosts hold several thousand. */
export const DESKTOP_SIZE = { cpu: "250m", memory: "1Gi", disk: "5Gi" };

export const paths = {
  pools: (ns: string) => `${GROUP_PATH}/namespaces/${ns}/desktoppools`,
  pool: (ns: string, name: string) => `${GROUP_PATH}/namespaces/${ns}/desktoppools/${name}`,
  sessions: (ns: string) => `${GROUP_PATH}/namespaces/${ns}/desktopsessions`,
  session: (ns: string, name: string) => `${GROUP_PATH}/namespaces/${ns}/desktopsessions/${name}`,
  desktops: (ns: string) => `${GROUP_PATH}/namespaces/${ns}/desktops`,
  desktop: (ns: string, name: string) => `${GROUP_PATH}/namespaces/${ns}/desktops/${name}`,
  hosts: () => `${GROUP_PATH}/hostnodes`,
};

export function poolObject(ns: string, name: string, spec: Record<string, unknown>): object {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: { name, namespace: ns },
    spec: {
      image: IMAGE,
      resources: DESKTOP_SIZE,
      placement: { strategy: "BreadthFirst", maxProvisioningPerHost: 8 },
      ...spec,
    },
  };
}

export function sessionObject(ns: string, pool: string, name: string): object {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopSession",
    metadata: { name, namespace: ns },
    spec: { poolRef: pool, user: `${name}@bench.example` },
  };
}

export const userName = (prefix: string, i: number): string => `${prefix}-${String(i).padStart(5, "0")}`;

interface PoolStatus {
  status?: { available?: number; replicas?: number; inUse?: number; provisioning?: number };
}

export async function poolStatus(kube: Kube, ns: string, name: string): Promise<PoolStatus["status"]> {
  return ((await kube.get(paths.pool(ns, name))) as PoolStatus).status;
}

export interface OperatorOptions extends SpawnOptions {
  hosts: number;
  provisionMs: number;
  sessionWorkers?: number;
  poolWorkers?: number;
  hostWorkers?: number;
  agentWorkers?: number;
  /** Fixed metrics port for the controller (so a restarted one is found at once); 0 = any. */
  controllerPort?: number;
  hostPrefix?: string;
  agentName?: string;
  stateDir?: string;
}

export function controllerArgs(o: OperatorOptions): string[] {
  const opt = (flag: string, v: number | undefined): string[] => (v ? [flag, String(v)] : []);
  return [
    "controller",
    "--system-namespace",
    SYSTEM_NS,
    "--metrics-bind-address",
    `127.0.0.1:${o.controllerPort ?? 0}`,
    "--log-level",
    "warn",
    ...opt("--session-workers", o.sessionWorkers),
    ...opt("--pool-workers", o.poolWorkers),
    ...opt("--host-workers", o.hostWorkers),
  ];
}

export function startController(name: string, o: OperatorOptions): Proc {
  return spawnGriddesk(name, controllerArgs(o), o);
}

export function startAgent(o: OperatorOptions): Proc {
  const stateDir = o.stateDir ?? mkdtempSync(path.join(tmpdir(), "griddesk-bench-sim-"));
  return spawnGriddesk(
    o.agentName ?? "agent",
    [
      "agent",
      "--adapter",
      "simulated",
      "--name",
      o.agentName ?? "bench-agent",
      "--simulated-hosts",
      String(o.hosts),
      "--host-prefix",
      o.hostPrefix ?? "bench-",
      "--state-dir",
      stateDir,
      "--allow-source-root",
      "/srv/images", // where IMAGE says it is

      "--system-namespace",
      SYSTEM_NS,
      "--health-probe-bind-address",
      "127.0.0.1:0",
      "--simulated-provision-ms",
      String(o.provisionMs),
      "--simulated-image-pull-ms",
      "500",
      "--log-level",
      "warn",
      ...(o.agentWorkers ? ["--workers", String(o.agentWorkers)] : []),
    ],
    o,
  );
}
