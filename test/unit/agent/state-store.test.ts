// The state directory: a host without a file starts empty, changes are written once per
// debounce window (atomically), flush writes at once, and a corrupt file stops the start.
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import { SimulatedStateStore } from "../../../src/agent/simulated/state-store.js";
import { silentLogger } from "../../../src/runtime/index.js";
import { StepClock } from "./fixtures.js";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gd-state-"));
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const waitFor = async (check: () => Promise<boolean>): Promise<void> => {
  for (let i = 0; i < 200 && !(await check()); i++) await new Promise((r) => setTimeout(r, 5));
};

describe("SimulatedStateStore", () => {
  it("loads, debounces writes, flushes, and reloads what it wrote", async () => {
    const clock = new StepClock();
    const store = new SimulatedStateStore(dir, clock, silentLogger(), 100);
    const states = await store.load(["sim-a", "sim-b"]);
    expect(states.get("sim-a")?.vms.size).toBe(0);

    states.get("sim-a")?.addForeignVm("vm-1");
    store.changed("sim-a");
    store.changed("sim-a");
    expect(clock.pending).toBe(1); // one write per window
    clock.advance(100);
    const file = store.fileOf("sim-a");
    await waitFor(async () => (await readdir(dir)).includes("sim-a.json"));
    expect(JSON.parse(await readFile(file, "utf8")).vms).toHaveLength(1);

    states.get("sim-a")?.addForeignVm("vm-2");
    store.changed("sim-a");
    await store.flush();
    expect(clock.pending).toBe(0);
    expect(JSON.parse(await readFile(file, "utf8")).vms).toHaveLength(2);
    expect((await readdir(dir)).sort()).toEqual(["sim-a.json"]); // no temporary files left

    const again = await new SimulatedStateStore(dir, clock, silentLogger()).load(["sim-a"]);
    expect([...(again.get("sim-a")?.vms.keys() ?? [])]).toEqual(["vm-1", "vm-2"]);
  });

  it("refuses to start over a corrupt state file", async () => {
    await writeFile(join(dir, "sim-a.json"), "{not json");
    const store = new SimulatedStateStore(dir, new StepClock(), silentLogger());
    await expect(store.load(["sim-a"])).rejects.toThrow(/sim-a\.json/);
  });
});
