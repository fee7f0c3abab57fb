// Shared helpers for integration tests: clients for the real API server named by KUBECONFIG,
// throwaway namespaces, and the kubectl binary that matches the server.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";

const execFileAsync = promisify(execFile);

export function kubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(process.env.KUBECONFIG as string);
  return kc;
}

/** kubectl built with the control plane (hack/build-k8s.sh); KUBECTL overrides. */
export function kubectlPath(): string {
  return process.env.KUBECTL ?? "kubectl";
}

export interface ProgramResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ProgramOptions {
  readonly cwd?: string;
  /** The program's whole environment (default: the test's own). */
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string;
  readonly timeoutMs?: number;
}

/** Runs a program to its end and gives its exit code and output; never throws on a non-zero exit. */
export async function runProgram(
  file: string,
  args: string[],
  o: ProgramOptions = {},
): Promise<ProgramResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { cwd: o.cwd, env: o.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: o.timeoutMs ?? 0 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (o.input !== undefined) child.stdin?.end(o.input);
  });
}

/** Runs kubectl against the test cluster; never throws on a non-zero exit. */
export async function kubectl(args: string[], input?: string): Promise<ProgramResult> {
  return runProgram(kubectlPath(), args, input === undefined ? {} : { input });
}

export async function mustKubectl(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

/**
 * `kubectl get events -o OUTPUT` once `accept` holds for its output. Events are written in the
 * background (as client-go's recorder does), so they follow the change that caused them.
 */
export async function eventsWhen(
  namespace: string,
  fieldSelector: string,
  output: string,
  accept: (out: string) => boolean,
  timeoutMs = 15_000,
): Promise<string> {
  let last = "";
  const args = ["get", "events", "-n", namespace, "--field-selector", fieldSelector, "-o", output];
  await eventually(
    `Events ${fieldSelector} in ${namespace}`,
    async () => accept((last = await mustKubectl(args))),
    timeoutMs,
    250,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}; last seen: ${last || "none"}`);
  });
  return last;
}

/** Creates a namespace with a random suffix; returns its name. */
export async function createTestNamespace(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.createNamespace({ body: { metadata: { name, labels: { "griddesk.io/test": "true" } } } });
  return name;
}

export async function deleteNamespace(name: string): Promise<void> {
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);
  await core.deleteNamespace({ name }).catch(() => undefined);
}

export { execFileAsync };

/** Applies crds/ server-side and waits until every griddesk CRD is Established. */
export async function installCrds(): Promise<void> {
  const dir = new URL("../../../crds/", import.meta.url).pathname;
  await mustKubectl(["apply", "--server-side", "--force-conflicts", "-f", dir]);
  await mustKubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", dir]);
}

/**
 * Applies KubeVirt's VirtualMachineInstance and VirtualMachine CRDs (generated from KubeVirt's
 * spec into third_party/kubevirt/crds) and waits until they are Established. Server-side: each is
 * larger than the 256 KiB a client-side apply's annotation may hold.
 */
export async function installKubevirtCrds(): Promise<void> {
  const dir = new URL("../../../third_party/kubevirt/crds/", import.meta.url).pathname;
  await mustKubectl(["apply", "--server-side", "--force-conflicts", "-f", dir]);
  await mustKubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", dir]);
  // The API server publishes a new CRD's OpenAPI a moment after it is Established; kwok reads it
  // at start and exits without it ("GroupVersion (kubevirt.io/v1) not found as OpenAPI V3 path").
  await eventually(
    "kubevirt.io/v1 in the API server's OpenAPI v3",
    async () => (await mustKubectl(["get", "--raw", "/openapi/v3"])).includes('"apis/kubevirt.io/v1"'),
    60_000,
    250,
  );
}

/**
 * The suite's one wait: polls `check` until it returns a truthy value (which it resolves with), or
 * throws once `timeoutMs` has passed, naming `what` and the check's last error. A deadline here
 * is how long a slow machine may take, never a figure under test (those are benchmarks).
 */
export async function eventually<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 60_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
