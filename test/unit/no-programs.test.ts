// The canary for the unit project's guard (test/unit/support/no-child-process.cjs): every way of
// reaching child_process, by either name and with a program named by absolute path, throws.
// Without the guard `/bin/true` would simply run and these would fail.
import { describe, expect, it } from "@jest/globals";
import * as bare from "child_process";
import * as prefixed from "node:child_process";
import { runCommand } from "../../src/volumes/command.js";

const GUARD = /unit tests spawn no programs/;

describe("the unit project's guard against spawning programs", () => {
  it.each([
    ["node:child_process", prefixed],
    ["child_process", bare],
  ])("refuses every call of %s", (_name, cp) => {
    expect(() => cp.spawn("/bin/true", [])).toThrow(GUARD);
    expect(() => cp.spawnSync("/bin/true")).toThrow(GUARD);
    expect(() => cp.execFileSync("/bin/true")).toThrow(GUARD);
    expect(() => cp.execSync("true")).toThrow(GUARD);
    expect(() => cp.exec("true")).toThrow(GUARD);
    expect(() => cp.fork("/bin/true")).toThrow(GUARD);
  });

  it("refuses a program the product's own code starts, by absolute path", async () => {
    await expect(runCommand("/bin/true", [])).rejects.toThrow(GUARD);
  });

  it("refuses a dynamic import too", async () => {
    const cp = await import("node:child_process");
    expect(() => cp.execFile("/bin/true", () => undefined)).toThrow(GUARD);
  });
});
