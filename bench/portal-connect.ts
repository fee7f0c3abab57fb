// `npm run bench:portal`: how long a user waits from clicking "Reconnect" in the portal to the
// desktop's first frame on the noVNC canvas, next to the same desktop's raw VNC connect time
// measured in the same run. Portal: real headless Chromium, the broker, a real libvirt desktop;
// the time runs in the page from the click to the first animation frame whose canvas has a lit
// pixel (connect call, ticket, WebSocket upgrade with the ticket's checks and its recorded use,
// the broker's VNC authentication, noVNC's handshake, the first update drawn). Raw: a TCP connect
// to QEMU's VNC server, VNC authentication, ClientInit, and a full FramebufferUpdateRequest until
// the first rectangle's header arrives (the least any VNC client must wait). Runs alternate so
// machine load hits both alike. Prints each run, the medians and their difference.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import type { Desktop, DesktopPool, DesktopSession } from "../src/api/types.generated.js";
import { sessionNameFor } from "../src/broker/entitlements.js";
import { hashPassword } from "../src/broker/static-users.js";
import { authenticateToServer, ByteQueue } from "../src/console/rfb.js";
import { consoleSecretName, passwordOf, type ConsoleSecretObject } from "../src/console/secret.js";
import { Resources } from "../src/controllers/shared/resources.js";
import { ObjectClient, RestClient } from "../src/runtime/index.js";
import { brokerCredentials } from "../test/integration/support/broker.js";
import { launchBrowser } from "../test/integration/support/browser.js";

const run = promisify(execFile);
const repo = path.resolve(new URL("../", import.meta.url).pathname);
const RUNS = Number(process.env.RUNS ?? 7);
const clusterEnv = {
  ...process.env,
  GRIDDESK_CLUSTER_DIR: path.join(repo, ".griddesk/cluster-bench-portal"),
  GRIDDESK_PORT_BASE: process.env.GRIDDESK_BENCH_PORTAL_PORT_BASE ?? "29443",
};
const BROKER_PORT = Number(process.env.GRIDDESK_BENCH_BROKER_PORT ?? 29843);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  ms = 300_000,
  every = 100,
): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(every)) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Raw VNC: connect, authenticate, ClientInit, ServerInit, request the screen, first rectangle. */
async function rawConnectMs(host: string, port: number, password: string): Promise<number> {
  const started = performance.now();
  const socket = connect({ host, port });
  const q = new ByteQueue();
  socket.on("data", (d: Buffer) => q.push(d));
  socket.on("error", (err) => q.end(err));
  socket.on("close", () => q.end(new Error("closed")));
  try {
    await authenticateToServer(q, (b) => socket.write(b), password);
    socket.write(Buffer.from([1]));
    const init = await q.read(24);
    await q.read(init.readUInt32BE(20));
    const req = Buffer.alloc(10);
    req.writeUInt8(3, 0);
    req.writeUInt16BE(init.readUInt16BE(0), 6);
    req.writeUInt16BE(init.readUInt16BE(2), 8);
    socket.write(req);
    await q.read(4 + 12); // FramebufferUpdate header and the first rectangle's header
    return performance.now() - started;
  } finally {
    socket.destroy();
  }
}

// --- set-up: libvirtd, the test image, a control plane, controller, libvirt agent, broker -----
await run(path.join(repo, "hack/libvirt-up.sh"));
const chromium = (await run(path.join(repo, "hack/chromium-up.sh"))).stdout.trim();
process.env.GRIDDESK_CHROMIUM = chromium;
const imageDir = (await run(path.join(repo, "hack/build-test-image.sh"))).stdout.trim();
const sha = (f: string) => readFileSync(path.join(imageDir, `${f}.sha256`), "utf8").trim();
const image = {
  source: `file://${imageDir}/golden.qcow2`,
  sha256: sha("golden.qcow2"),
  format: "qcow2" as const,
  boot: {
    kernel: `${imageDir}/vmlinuz`,
    kernelSha256: sha("vmlinuz"),
    initrd: `${imageDir}/initrd.gz`,
    initrdSha256: sha("initrd.gz"),
    cmdline: "console=tty0 quiet",
  },
};
const up = await run(path.join(repo, "hack/cluster-up.sh"), [], { env: clusterEnv });
const kubeconfig = /KUBECONFIG=(\S+)/.exec(up.stdout)?.[1] as string;
const kubectl = (...args: string[]) =>
  run(path.join(clusterEnv.GRIDDESK_CLUSTER_DIR, "bin/kubectl"), ["--kubeconfig", kubeconfig, ...args]);
await kubectl("apply", "--server-side", "--force-conflicts", "-f", path.join(repo, "crds"));
await kubectl("wait", "--for=condition=Established", "-f", path.join(repo, "crds"));
for (const ns of ["bench", "bench-sys"]) await kubectl("create", "namespace", ns).catch(() => undefined);

const storage = mkdtempSync("/var/tmp/griddesk-bench-portal-");
chmodSync(storage, 0o755);
const creds = brokerCredentials();
const usersFile = path.join(creds.dir, "users.yaml");
writeFileSync(usersFile, `users:\n  - name: alice\n    passwordHash: "${await hashPassword("bench-pw")}"\n`);
const env = { ...process.env, KUBECONFIG: kubeconfig };
const logDir = mkdtempSync("/tmp/griddesk-bench-portal-logs-");
console.log(`logs in ${logDir}`);
const griddesk = (args: string[]): ChildProcess => {
  const log = openSync(path.join(logDir, `${args[0]}.log`), "a");
  return spawn(path.join(repo, "node_modules/.bin/node"), ["--import", "tsx", "src/cli/main.ts", ...args], {
    cwd: repo,
    env,
    stdio: ["ignore", log, log],
  });
};
const procs = [
  griddesk(["controller", "--system-namespace", "bench-sys", "--metrics-bind-address", "127.0.0.1:0"]),
  griddesk([
    ...["agent", "--adapter", "libvirt", "--name", "bench-portal", "--host-name", "bench-portal"],
    ...["--host-labels", "bench=portal", "--system-namespace", "bench-sys", "--storage-path", storage],
    ...["--allow-source-root", imageDir, "--health-probe-bind-address", "0"],
  ]),
  griddesk([
    ...["broker", "--bind-address", `127.0.0.1:${BROKER_PORT}`, "--health-probe-bind-address", "127.0.0.1:0"],
    ...["--tls-cert-file", creds.certFile, "--tls-key-file", creds.keyFile],
    ...["--signing-key-file", creds.signingKeyFile, "--static-users-file", usersFile],
    ...["--console-secret-namespace", "bench-sys"],
  ]),
];

const kc = new KubeConfig();
kc.loadFromFile(kubeconfig);
const rest = new RestClient(kc);
const pools = new ObjectClient<DesktopPool>(rest, Resources.DesktopPool);
const sessions = new ObjectClient<DesktopSession>(rest, Resources.DesktopSession);
const desktops = new ObjectClient<Desktop>(rest, Resources.Desktop);
const secrets = new ObjectClient<ConsoleSecretObject>(rest, Resources.Secret);
const browser = await launchBrowser();

try {
  await pools.create({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopPool",
    metadata: { namespace: "bench", name: "office" },
    spec: {
      image,
      resources: { cpu: "500m", memory: "192Mi", disk: "1Gi" },
      hostSelector: { matchLabels: { bench: "portal" } },
      min: 0,
      max: 2,
      buffer: 1,
      access: { users: ["alice"] },
    },
  });
  await until("a warm desktop", async () =>
    (await pools.get({ namespace: "bench", name: "office" })).status?.available === 1 ? true : undefined,
  );
  const context = await browser.newContext({ ignoreHTTPSErrors: true });
  const page = await context.newPage();
  await until("the broker", async () =>
    (await page.goto(`https://127.0.0.1:${BROKER_PORT}/`))?.ok() ? true : undefined,
  );
  await page.getByLabel("User name").fill("alice");
  await page.getByLabel("Password").fill("bench-pw");
  await page.getByRole("button", { name: "Sign in" }).click();
  // The first connect logs on (a session, the warm desktop bound); the runs reconnect to it.
  await page.getByRole("button", { name: "Connect to office" }).click();
  await page.getByText("Connected to office").waitFor({ timeout: 120_000 });
  const session = await sessions.get({ namespace: "bench", name: sessionNameFor("office", "alice") });
  const desktop = await desktops.get({ namespace: "bench", name: session.status?.desktopRef as string });
  const endpoint = desktop.status?.endpoint as { host: string; port: number };
  const secret = await secrets.get({
    namespace: "bench-sys",
    name: consoleSecretName(desktop.metadata.uid as string),
  });
  const password = passwordOf(secret) as string;
  // Wait for the test image's banner, so every run draws the same screen.
  await sleep(8000);

  const portal: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    await page.getByRole("button", { name: "Back to my desktops" }).click();
    const reconnect = page.getByRole("button", { name: "Reconnect to office" });
    await reconnect.waitFor();
    await sleep(300);
    // Click and first frame, both timed in the page.
    const ms = (await page.evaluate(`(async () => {
      const started = performance.now();
      document.querySelector('button[aria-label="Reconnect to office"]').click();
      for (;;) {
        await new Promise((r) => requestAnimationFrame(r));
        const c = document.querySelector("#screen canvas");
        if (!c || c.width === 0) continue;
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] > 96) return performance.now() - started;
      }
    })()`)) as number;
    portal.push(ms);
    raw.push(await rawConnectMs(endpoint.host, endpoint.port, password));
    console.log(
      `run ${i + 1}: portal click → first frame ${ms.toFixed(0)} ms; raw VNC connect → first rectangle ${raw.at(-1)?.toFixed(1)} ms`,
    );
  }
  const p = median(portal);
  const r = median(raw);
  console.log(
    `\nconnect time, median of ${RUNS}: portal ${p.toFixed(0)} ms (click → first frame on the canvas), ` +
      `raw VNC ${r.toFixed(1)} ms (connect → first rectangle), the portal adds ${(p - r).toFixed(0)} ms`,
  );
} finally {
  await browser.close();
  // The agent destroys its own domains: log off, empty the pool, wait, then stop.
  await sessions
    .delete({ namespace: "bench", name: sessionNameFor("office", "alice") })
    .catch(() => undefined);
  await pools.delete({ namespace: "bench", name: "office" }).catch(() => undefined);
  await until(
    "the desktops destroyed",
    async () => ((await desktops.list({ namespace: "bench" })).length === 0 ? true : undefined),
    120_000,
    500,
  ).catch(() => console.error("some desktops were left; `virsh list` shows their domains (gd-*)"));
  for (const p of procs) p.kill("SIGTERM");
  await sleep(2000);
  await run(path.join(repo, "hack/cluster-down.sh"), [], { env: clusterEnv }).catch(() => undefined);
}
process.exit(0);
