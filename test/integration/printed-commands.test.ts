// What the product tells a person to type works as printed, on a machine whose own Node is older
// than the project's: the commands in `make run`'s closing message (hack/run-message.sh, the very
// script hack/run.sh prints it with) and the `$ ` commands in the README's "What you see after
// `make run`" section run in one bash, in that order, with the system's directories first on
// PATH (so `node` is the machine's own), against the test cluster set up as `make run` sets up
// its own: the CRDs, the examples, a controller and a simulated agent serving sim-small,
// sim-medium and sim-large. Watches (`-w`) are left out: they never end.
//
// One substitution, and only one: the README points at `make run`'s cluster
// ($PWD/.griddesk/cluster/kubeconfig); here that is the test cluster's kubeconfig.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import {
  installCrds,
  kubectl,
  kubectlPath,
  mustKubectl,
  eventually,
  createTestNamespace,
  runProgram,
} from "./support/cluster.js";
import { startControllerProcess, startSimulatedAgent, tearDown, tempStateDir } from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(300_000);

const repo = fileURLToPath(new URL("../../", import.meta.url));
const SIM_HOSTS = ["sim-small", "sim-medium", "sim-large"];
/** The machine's own directories, as a login shell has them: /usr/bin/node is the system's. */
const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** The lines of a `make run`-style message under "In another shell:", comments cut off. */
function messageCommands(message: string): string[] {
  const lines = message.split("\n");
  const start = lines.findIndex((l) => l.trim() === "In another shell:");
  if (start < 0) throw new Error(`no "In another shell:" in the message:\n${message}`);
  const out: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === "") {
      if (out.length > 0) break;
      continue;
    }
    out.push(withoutComment(line));
  }
  return out;
}

/** The `$ ` lines of the fenced blocks in the README section whose heading starts `heading`. */
function readmeCommands(readme: string, heading: string): string[] {
  const from = readme.indexOf(`\n## ${heading}`);
  if (from < 0) throw new Error(`README has no section "## ${heading}"`);
  const next = readme.indexOf("\n## ", from + 1);
  const section = readme.slice(from, next < 0 ? undefined : next);
  const out: string[] = [];
  let fenced = false;
  for (const line of section.split("\n")) {
    if (line.startsWith("```")) fenced = !fenced;
    else if (fenced && line.startsWith("$ ")) out.push(withoutComment(line.slice(2)));
  }
  return out;
}

/** A command without its trailing `# …` comment (none of these commands quote a `#`). */
const withoutComment = (line: string): string => line.replace(/\s+#.*$/, "").trim();
const isWatch = (cmd: string): boolean => /\s(-w|--watch)(\s|$)/.test(cmd);

const bash = (script: string, env: NodeJS.ProcessEnv) =>
  runProgram("/bin/bash", ["-c", script], { cwd: repo, env, timeoutMs: 240_000 });

const procs: GriddeskProcess[] = [];
let systemNs = "";
const state = mkdtempSync(path.join(tmpdir(), "griddesk-printed-"));

beforeAll(async () => {
  await installCrds();
  // As hack/run.sh does: the examples, then the controller and a simulated agent.
  await mustKubectl([
    "apply",
    "--server-side",
    "--force-conflicts",
    "-f",
    `${repo}examples/hosts-simulated.yaml`,
    "-f",
    `${repo}examples/pool-callcenter.yaml`,
    "-f",
    `${repo}examples/pool-knowledge.yaml`,
  ]);
  systemNs = await createTestNamespace("printed-sys");
  procs.push(startControllerProcess("printed-controller", { systemNamespace: systemNs }));
  procs.push(
    startSimulatedAgent("printed-agent", {
      systemNamespace: systemNs,
      hosts: SIM_HOSTS,
      stateDir: tempStateDir(),
      extra: ["--allow-source-url-prefix", "https://images.example.com/golden/"],
    }),
  );
  await eventually(
    "the callcenter pool to have a warm desktop",
    async () => {
      const r = await kubectl([
        "get",
        "desktoppool",
        "callcenter",
        "-n",
        "team-a",
        "-o",
        "jsonpath={.status.available}",
      ]);
      return Number(r.stdout || 0) >= 1;
    },
    120_000,
    500,
  );
});

afterAll(async () => {
  // The pools' desktops are finalized by the controller and agent: delete while they still run.
  await kubectl(["delete", "namespace", "team-a", "--timeout=90s"]);
  await tearDown(procs, [systemNs], SIM_HOSTS);
  rmSync(state, { recursive: true, force: true });
});

describe("the commands griddesk tells a person to type", () => {
  it("run as printed with the machine's older Node first on PATH", async () => {
    const systemNode = await bash("command -v node && node --version", { PATH: SYSTEM_PATH });
    // The point of the test: `node` on this PATH is the machine's own, not the project's Node 24
    // (on this kind of machine, Debian's Node 20, on which the CLI's HTTP client cannot load).
    expect(systemNode.stdout).not.toContain("node_modules");
    console.log(`first node on the commands' PATH: ${systemNode.stdout.trim().replace("\n", " ")}`);

    const kubectlDir = path.dirname(kubectlPath());
    const message = await bash(`hack/run-message.sh ${state}`, {
      PATH: `${kubectlDir}:${SYSTEM_PATH}`,
      KUBECONFIG: process.env.KUBECONFIG,
    });
    expect(message.code).toBe(0);
    const fromMessage = messageCommands(message.stdout);
    const fromReadme = readmeCommands(
      readFileSync(path.join(repo, "README.md"), "utf8"),
      "What you see after `make run`",
    );
    // The message tells a person to run the CLI itself (in whatever form), not only kubectl.
    expect(fromMessage.filter((c) => / status$/.test(c))).toHaveLength(1);
    expect(fromReadme.length).toBeGreaterThan(3);

    const kubeconfig = process.env.KUBECONFIG as string;
    const commands = [...fromMessage, ...fromReadme]
      .filter((c) => !isWatch(c))
      .map((c) => c.replaceAll("$PWD/.griddesk/cluster/kubeconfig", kubeconfig));
    // Each command echoed before it runs, so a failure names the command that failed.
    const script = [
      "set -euo pipefail",
      ...commands.flatMap((c) => [`echo ${JSON.stringify(`$ ${c}`)}`, c]),
    ].join("\n");
    const run = await bash(script, { PATH: SYSTEM_PATH, HOME: process.env.HOME });
    const transcript = `${run.stdout}\n--- stderr ---\n${run.stderr}`;
    // On a failure, the whole transcript: which command failed and what it said.
    expect(run.code === 0 ? "every command exited 0" : transcript).toBe("every command exited 0");
    expect(run.stderr).not.toMatch(/TypeError|needs Node\.js/);
    // What the commands say they did, not only that they exited 0.
    expect(run.stdout).toMatch(/desktopsession\.griddesk\.io\/alice-\S+ created/);
    expect(run.stdout).toMatch(/NAMESPACE\s+POOL\s+MIN\/BUFFER\/MAX/);
    expect(run.stdout).toMatch(/team-a\s+callcenter\s+0\/20\/400/);
    expect(run.stdout).toContain("hostnode/sim-small cordoned");
    expect(run.stdout).toContain("hostnode/sim-small uncordoned");
    expect(run.stdout).toMatch(/desktopsession\.griddesk\.io "alice-\S+" deleted/);
  });
});
