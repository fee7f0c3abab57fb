// `make test` names what the machine lacks before it installs anything (hack/prereqs.sh): run in
// a scratch copy of the project's make files, on a PATH from which openssl and curl are hidden,
// it stops in one line naming both, and `npm ci` never started (no node_modules appears). Root
// is needed for `make test` and not for `make run`: checked as the unprivileged user nobody.
import { afterAll, describe, expect, it, jest } from "@jest/globals";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runProgram } from "./support/cluster.js";

jest.setTimeout(180_000);

const repo = fileURLToPath(new URL("../../", import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), "griddesk-prereqs-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const run = (file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv) =>
  runProgram(file, args, { cwd, env, timeoutMs: 150_000 });

/** A directory of links to every program in the system's bin directories but `hide`. */
function pathWithout(hide: readonly string[]): string {
  const bin = path.join(scratch, "bin");
  mkdirSync(bin);
  for (const dir of ["/usr/local/bin", "/usr/bin", "/bin", "/usr/sbin", "/sbin"])
    for (const name of existsSync(dir) ? readdirSync(dir) : [])
      if (!hide.includes(name) && !existsSync(path.join(bin, name)))
        symlinkSync(path.join(dir, name), path.join(bin, name));
  return bin;
}

/** The project's make files, without node_modules: what a fresh clone has before `make test`. */
function freshCopy(): string {
  const dir = path.join(scratch, "clone");
  mkdirSync(dir);
  for (const f of ["Makefile", "package.json", "package-lock.json"])
    cpSync(path.join(repo, f), path.join(dir, f));
  cpSync(path.join(repo, "hack"), path.join(dir, "hack"), { recursive: true });
  chmodSync(scratch, 0o755);
  return dir;
}

describe("make test's prerequisites", () => {
  it("are named in one line before npm ci or any build runs", async () => {
    const clone = freshCopy();
    const r = await run("/usr/bin/make", ["--no-print-directory", "test"], clone, {
      PATH: pathWithout(["openssl", "curl"]),
      HOME: process.env.HOME,
    });
    expect(r.code).not.toBe(0);
    const said = r.stderr.trim().split("\n");
    expect(said[0]).toMatch(/^make test needs, and this machine lacks: .*openssl.*; .*curl/);
    expect(said[0]).not.toMatch(/Go|root|Node/);
    expect(existsSync(path.join(clone, "node_modules"))).toBe(false);
    expect(r.stdout).not.toMatch(/npm ci|build-k8s/);
  });

  it("need root for make test, not for make run", async () => {
    const prereqs = path.join(scratch, "prereqs.sh");
    cpSync(path.join(repo, "hack/prereqs.sh"), prereqs);
    chmodSync(scratch, 0o755);
    const asNobody = (what: string) =>
      run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", prereqs, what], scratch, {
        PATH: `/usr/local/go/bin:${process.env.PATH ?? ""}`,
        HOME: scratch,
        GOCACHE: path.join(scratch, "go-cache"),
      });
    const test = await asNobody("test");
    expect(test.code).toBe(1);
    expect(test.stderr).toMatch(/^make test needs, and this machine lacks: root \(/);
    const runOnly = await asNobody("run");
    expect({ code: runOnly.code, stderr: runOnly.stderr }).toEqual({ code: 0, stderr: "" });
  });
});
