// griddesk components for the libvirt end-to-end tests: libvirt agents as real processes (inside
// another libvirtd's mount namespace when given its PID, as `nsenter -t PID -m -- node ...`),
// pools over the bootable test image, and a look at what a host really has.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { DesktopPool, HostNode } from "../../src/api/types.generated.js";
import { deleteNamespace, eventually } from "./support/cluster.js";
import { clients } from "./support/griddesk.js";
import { stopAll, type GriddeskProcess } from "./support/processes.js";
import { domainNames, removeDir, testImageDir, virsh, type BootableImage } from "./libvirt-support.js";

const repo = new URL("../../", import.meta.url).pathname;
const logDir = mkdtempSync(path.join(tmpdir(), "griddesk-libvirt-logs-"));

export interface LibvirtAgentArgs {
  readonly systemNamespace: string;
  readonly host: string;
  readonly storagePath: string;
  readonly labels: Record<string, string>;
  /** Run inside this libvirtd instance's mount namespace. */
  readonly nsPid?: number;
  /** More agent flags (e.g. the source policy's, beyond the test image's directory). */
  readonly extra?: readonly string[];
}

let testImageRoot: string | undefined;

export function startLibvirtAgent(name: string, a: LibvirtAgentArgs): GriddeskProcess {
  const labels = Object.entries(a.labels).map(([k, v]) => `${k}=${v}`);
  const node = [
    path.join(repo, "node_modules/.bin/node"),
    "--import",
    "tsx",
    path.join(repo, "src/cli/main.ts"),
  ];
  const args = [
    ...["agent", "--adapter", "libvirt", "--name", name, "--host-name", a.host],
    ...["--storage-path", a.storagePath, "--system-namespace", a.systemNamespace],
    ...[
      "--health-probe-bind-address",
      "127.0.0.1:0",
      "--lease-duration",
      "30",
      "--lease-renew-interval",
      "5",
    ],
    // The admin's source policy: the test image's directory, as an admin would allow theirs.
    ...["--allow-source-root", (testImageRoot ??= testImageDir())],
    ...(a.extra ?? []),
    ...[
      "--orphan-collection-interval",
      "5",
      "--host-status-interval",
      "5",
      "--host-labels",
      labels.join(","),
    ],
  ];
  const [file, argv] = a.nsPid
    ? ["nsenter", ["-t", String(a.nsPid), "-m", `--wd=${repo}`, "--", ...node, ...args]]
    : [node[0] as string, [...node.slice(1), ...args]];
  const logFile = path.join(logDir, `${name}-${Date.now()}.log`);
  const out = createWriteStream(logFile);
  const child = spawn(file, argv, { cwd: repo, env: process.env, stdio: ["ignore", "pipe", "pipe"] });
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
      return existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-lines).join("\n") : "";
    },
  };
}

/**
 * A small host (2 CPUs, 1Gi, no overcommit): one test desktop's share of it outweighs the
 * scheduler's cached-image bonus, so breadth-first placement spreads a pool over such hosts.
 */
export function smallHost(
  name: string,
  type: "libvirt" | "simulated",
  labels: Record<string, string>,
): HostNode {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "HostNode",
    metadata: { name, labels },
    spec: {
      hypervisor: type === "libvirt" ? { type, libvirt: {} } : { type, simulated: {} },
      capacity: { cpu: "2", memory: "1Gi", localStorage: "50Gi" },
      overcommit: { cpu: 1, memory: 1 },
    },
  };
}

/** A pool of small desktops booting the test image. */
export function libvirtPool(
  namespace: string,
  name: string,
  image: BootableImage,
  spec: Partial<DesktopPool["spec"]>,
): DesktopPool {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: { name, namespace },
    spec: { image, resources: { cpu: "500m", memory: "192Mi", disk: "1Gi" }, min: 0, max: 4, ...spec },
  };
}

/** What a libvirt host really has for griddesk: domain uids, overlay uids, record uids. */
export function hostContents(storagePath: string, nsPid?: number) {
  const overlays = path.join(storagePath, "overlays");
  const files = existsSync(overlays) ? readdirSync(overlays) : [];
  const uids = (ext: string) =>
    files
      .filter((f) => f.endsWith(ext))
      .map((f) => f.slice(0, -ext.length))
      .sort();
  return {
    domains: domainNames(nsPid)
      .filter((d) => d.startsWith("gd-"))
      .map((d) => d.slice(3))
      .sort(),
    overlays: uids(".qcow2"),
    records: uids(".json"),
  };
}

/**
 * Tears down a libvirt test so that nothing of it is left on the machine's libvirtd, even when
 * the test failed half-way: its pools and sessions are deleted and the agent is given time to
 * destroy their desktops before the processes stop; whatever domain of this storage still runs
 * then (the agent died, or was too slow) is destroyed here, so later tests never see it.
 */
export async function tearDownLibvirt(t: {
  readonly namespaces: readonly string[];
  readonly host: string;
  readonly storagePath: string;
  readonly procs: GriddeskProcess[];
}): Promise<void> {
  const c = clients();
  for (const namespace of t.namespaces.filter(Boolean)) {
    for (const s of await c.sessions.list({ namespace }).catch(() => []))
      await c.sessions.delete({ namespace, name: s.metadata.name as string }).catch(() => undefined);
    for (const p of await c.pools.list({ namespace }).catch(() => []))
      await c.pools.delete({ namespace, name: p.metadata.name as string }).catch(() => undefined);
  }
  await eventually(
    "the test's desktops destroyed",
    async () =>
      (
        await Promise.all(t.namespaces.filter(Boolean).map((namespace) => c.desktops.list({ namespace })))
      ).flat().length === 0,
    60_000,
    1000,
  ).catch(() => undefined);
  await stopAll(t.procs);
  for (const namespace of t.namespaces.filter(Boolean)) await deleteNamespace(namespace);
  await c.hosts.delete({ name: t.host }).catch(() => undefined);
  const running = new Set(domainNames());
  for (const uid of hostContents(t.storagePath).records)
    if (running.has(`gd-${uid}`)) {
      try {
        virsh(["destroy", `gd-${uid}`]);
      } catch {
        // gone meanwhile
      }
    }
  removeDir(t.storagePath);
}
