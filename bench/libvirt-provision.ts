// `npm run bench:libvirt`: how long the operator takes to make a real libvirt desktop, next to
// the same work scripted directly, measured in the same run on the same host. Operator: a pool's
// buffer is raised by one; the time runs from the new Desktop's first sighting (polled every
// 50 ms) to phase Available. Raw: `qemu-img create` over the same cached image, `virsh create`
// of the same domain XML, then polling `virsh domstate`/`vncdisplay` until it runs with a VNC
// port. Runs alternate so that machine load hits both alike. Prints each run and the ratio.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import type { Desktop, DesktopPool } from "../src/api/types.generated.js";
import { Resources } from "../src/controllers/shared/resources.js";
import { domainXml, parseLibvirtConfig } from "../src/hypervisors/libvirt/index.js";
import { ObjectClient, RestClient } from "../src/runtime/index.js";

const run = promisify(execFile);
const repo = path.resolve(new URL("../", import.meta.url).pathname);
const RUNS = Number(process.env.RUNS ?? 3);
const clusterEnv = {
  ...process.env,
  GRIDDESK_CLUSTER_DIR: path.join(repo, ".griddesk/cluster-bench-libvirt"),
  GRIDDESK_PORT_BASE: process.env.GRIDDESK_BENCH_LIBVIRT_PORT_BASE ?? "28443",
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const virsh = (...args: string[]) => run("virsh", ["-q", "-c", "qemu:///system", ...args]);

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 300_000,
  every = 50,
): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(every)) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The middle run (RUNS is odd by default). */
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

// --- set-up: libvirtd, test image, control plane, controller and libvirt agent ---------------
await run(path.join(repo, "hack/libvirt-up.sh"));
const imageDir = (await run(path.join(repo, "hack/build-test-image.sh"))).stdout.trim();
const image = {
  source: `file://${imageDir}/golden.qcow2`,
  sha256: readFileSync(path.join(imageDir, "golden.qcow2.sha256"), "utf8").trim(),
  format: "qcow2" as const,
  boot: {
    kernel: `${imageDir}/vmlinuz`,
    kernelSha256: readFileSync(path.join(imageDir, "vmlinuz.sha256"), "utf8").trim(),
    initrd: `${imageDir}/initrd.gz`,
    initrdSha256: readFileSync(path.join(imageDir, "initrd.gz.sha256"), "utf8").trim(),
    cmdline: "console=tty0 quiet",
  },
};
const up = await run(path.join(repo, "hack/cluster-up.sh"), [], { env: clusterEnv });
const kubeconfig = /KUBECONFIG=(\S+)/.exec(up.stdout)?.[1] as string;
const kubectl = path.join(clusterEnv.GRIDDESK_CLUSTER_DIR, "bin/kubectl");
await run(kubectl, ["--kubeconfig", kubeconfig, "apply", "--server-side", "-f", path.join(repo, "crds")]);
await run(kubectl, [
  "--kubeconfig",
  kubeconfig,
  "wait",
  "--for=condition=Established",
  "-f",
  path.join(repo, "crds"),
]);
await run(kubectl, ["--kubeconfig", kubeconfig, "create", "namespace", "bench"]).catch(() => undefined);

const storage = mkdtempSync("/var/tmp/griddesk-bench-");
chmodSync(storage, 0o755);
const env = { ...process.env, KUBECONFIG: kubeconfig };
const griddesk = (args: string[]): ChildProcess =>
  spawn(path.join(repo, "node_modules/.bin/node"), ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: repo,
    env,
    stdio: "ignore",
  });
const agentFlags = "--adapter libvirt --name bench-lv --host-name bench-lv --host-labels bench=libvirt";
const procs = [
  griddesk(["controller", "--metrics-bind-address", "127.0.0.1:0"]),
  griddesk([
    "agent",
    ...agentFlags.split(" "),
    "--storage-path",
    storage,
    "--allow-source-root",
    imageDir,
    "--health-probe-bind-address",
    "0",
  ]),
];

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const rest = new RestClient(kc);
const pools = new ObjectClient<DesktopPool>(rest, Resources.DesktopPool);
const desktops = new ObjectClient<Desktop>(rest, Resources.Desktop);
const pool = { namespace: "bench", name: "lv" };
const available = async () =>
  (await desktops.list({ namespace: "bench" })).filter((d) => d.status?.phase === "Available");
const setBuffer = (buffer: number) => pools.mergePatch(pool, { spec: { buffer } });

try {
  await pools.create({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: pool,
    spec: {
      image,
      resources: { cpu: "500m", memory: "192Mi", disk: "1Gi" },
      hostSelector: { matchLabels: { bench: "libvirt" } },
      min: 0,
      max: 3,
      buffer: 1,
    },
  });
  // Warm-up: the first desktop pulls the image into the host's cache; neither side pays for it.
  await until("warm-up desktop", async () => ((await available()).length === 1 ? true : undefined));
  const cached = path.join(storage, "images", `${image.sha256}.img`);
  const bootFiles = readdirSync(path.join(storage, "boot")); // the agent's local copies

  const operator: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const before = new Set((await desktops.list({ namespace: "bench" })).map((d) => d.metadata.uid));
    await setBuffer(2);
    const fresh = await until("the new Desktop", async () =>
      (await desktops.list({ namespace: "bench" })).find((d) => !before.has(d.metadata.uid)),
    );
    const seen = performance.now();
    await until("the new Desktop Available", async () =>
      (await desktops.get({ namespace: "bench", name: fresh.metadata.name as string })).status?.phase ===
      "Available"
        ? true
        : undefined,
    );
    operator.push(performance.now() - seen);
    await setBuffer(1);
    await until("back to one desktop", async () =>
      (await desktops.list({ namespace: "bench" })).length === 1 ? true : undefined,
    );

    const uid = randomUUID();
    const overlay = path.join(storage, "tmp", `raw-${uid}.qcow2`);
    const xmlFile = path.join(storage, "tmp", `raw-${uid}.xml`);
    const id = { namespace: "bench", name: "raw", uid };
    const resources = { cpuMilli: 500, memoryBytes: 192 * 2 ** 20, diskBytes: 2 ** 30 };
    const bootFile = (suffix: string) =>
      path.join(storage, "boot", bootFiles.find((f) => f.endsWith(suffix)) ?? "");
    const boot = { kernel: bootFile("vmlinuz"), initrd: bootFile("initrd.gz"), cmdline: image.boot.cmdline };
    const t0 = performance.now();
    await run("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-b",
      cached,
      "-F",
      "qcow2",
      overlay,
      String(2 ** 30),
    ]);
    const spec = {
      id,
      resources,
      imageSha256: image.sha256,
      createdAt: Date.now(),
      overlay,
      vncListen: "127.0.0.1",
      domainType: parseLibvirtConfig("raw", {}).domainType, // what the agent runs, by default
      boot,
    };
    writeFileSync(xmlFile, domainXml(spec));
    await virsh("create", xmlFile);
    await until("raw domain running with VNC", async () => {
      const state = (await virsh("domstate", `gd-${uid}`)).stdout.trim();
      return state === "running" && (await virsh("vncdisplay", `gd-${uid}`)).stdout.trim() ? true : undefined;
    });
    raw.push(performance.now() - t0);
    await virsh("destroy", `gd-${uid}`);
    rmSync(overlay, { force: true });
    rmSync(xmlFile, { force: true });
    console.log(`run ${i + 1}: operator ${operator[i]?.toFixed(0)} ms, raw ${raw[i]?.toFixed(0)} ms`);
  }
  const [op, rw] = [median(operator), median(raw)];
  console.log(
    `\nlibvirt provisioning, Desktop created → Available vs qemu-img create + virsh create (${RUNS} runs each)`,
  );
  console.log(`  operator median ${op.toFixed(0)} ms  [${operator.map((x) => x.toFixed(0)).join(", ")}]`);
  console.log(`  raw      median ${rw.toFixed(0)} ms  [${raw.map((x) => x.toFixed(0)).join(", ")}]`);
  console.log(`  ratio operator/raw ${(op / rw).toFixed(2)}  (overhead ${(op - rw).toFixed(0)} ms)`);
} finally {
  await pools.delete(pool).catch(() => undefined);
  await until(
    "desktops gone",
    async () => ((await desktops.list({ namespace: "bench" })).length === 0 ? true : undefined),
    120_000,
  ).catch(() => undefined);
  for (const p of procs) p.kill();
  await run(path.join(repo, "hack/cluster-down.sh"), [], { env: clusterEnv });
  rmSync(storage, { recursive: true, force: true });
}
