// What the simulated adapter promises beyond the shared contract: determinism under a seed,
// honoured latencies and failure rate, restarts over kept state, and a light footprint.
import { describe, expect, it } from "@jest/globals";
import { image, simHost, vmSpec, portOf } from "./sim-helpers.js";

const MINUTE = 60_000;

/** Creates `n` VMs at one-second intervals and records when and how each settled. */
async function trace(seed: number, n = 40): Promise<string[]> {
  const { adapter, clock } = simHost({
    seed,
    failureRate: 0.3,
    provisioningLatency: { mean: 3000, jitter: 2000 },
    imagePullLatency: { mean: 8000, jitter: 4000 },
  });
  const start = clock.now();
  const seen: string[] = [];
  adapter.onChange((e) => {
    if (e.kind === "vm") seen.push(`${e.id.name}@${clock.now() - start}:${e.status?.state}`);
  });
  for (let i = 0; i < n; i++) {
    await adapter.create(vmSpec(i));
    await clock.advance(1000);
  }
  await clock.advance(MINUTE);
  return seen;
}

describe("simulated adapter", () => {
  it("is deterministic under a seed: same seed, same failures and latencies", async () => {
    const a = await trace(7);
    expect(await trace(7)).toEqual(a);
    expect(a).toHaveLength(40);
    expect(a.some((s) => s.endsWith(":failed"))).toBe(true);
    expect(await trace(8)).not.toEqual(a);
  });

  it("honours the failure rate over many creates", async () => {
    for (const seed of [1, 2, 3]) {
      const { adapter, clock } = simHost({ seed, failureRate: 0.25 });
      for (let i = 0; i < 1000; i++) await adapter.create(vmSpec(i));
      await clock.advance(MINUTE);
      const failed = (await adapter.list()).filter((vm) => vm.state === "failed");
      expect(failed.length / 1000).toBeGreaterThan(0.21);
      expect(failed.length / 1000).toBeLessThan(0.29);
      expect(failed[0]).toMatchObject({ reason: "ProvisioningFailed" });
      expect(failed[0]?.endpoint).toBeUndefined();
    }
  });

  it("keeps provisioning and image pull latencies within mean ± jitter", async () => {
    const { adapter, clock } = simHost({
      provisioningLatency: { mean: 1000, jitter: 200 },
      imagePullLatency: { mean: 5000, jitter: 500 },
    });
    const t0 = clock.now();
    const pulled = adapter.prepareImage(image).then(() => clock.now() - t0);
    await clock.advance(4499);
    expect((await adapter.listImages())[0]?.state).toBe("pulling");
    await clock.advance(1001);
    expect(await pulled).toBeGreaterThanOrEqual(4500);
    const readyAfter: number[] = [];
    adapter.onChange((e) => e.kind === "vm" && readyAfter.push(clock.now() - (e.status?.createdAt ?? 0)));
    for (let i = 0; i < 50; i++) await adapter.create(vmSpec(i));
    await clock.advance(MINUTE);
    expect(Math.min(...readyAfter)).toBeGreaterThanOrEqual(800);
    expect(Math.max(...readyAfter)).toBeLessThanOrEqual(1200);
    expect(new Set(readyAfter).size).toBeGreaterThan(10);
  });

  it("a VM created before its image is cached waits for the pull, which happens once", async () => {
    const { adapter, clock, state } = simHost({
      provisioningLatency: { mean: 1000, jitter: 0 },
      imagePullLatency: { mean: 10_000, jitter: 0 },
    });
    const t0 = clock.now();
    const prepared = adapter.prepareImage(image);
    const created = await Promise.all([adapter.create(vmSpec(1)), adapter.create(vmSpec(2))]);
    expect(created.map((vm) => vm.state)).toEqual(["provisioning", "provisioning"]);
    expect(clock.now()).toBe(t0); // create did not wait for the pull
    await clock.advance(10_999);
    expect((await adapter.get(vmSpec(1).id))?.state).toBe("provisioning");
    await clock.advance(1);
    expect((await adapter.get(vmSpec(1).id))?.state).toBe("running");
    expect(await prepared).toMatchObject({ state: "ready" });
    expect(state.pullsStarted).toBe(1);
  });

  it("holds one timer per pending VM or image and none once all is settled", async () => {
    const { adapter, clock } = simHost();
    for (let i = 0; i < 100; i++) await adapter.create(vmSpec(i));
    expect(clock.pending).toBe(101);
    await clock.advance(MINUTE);
    expect(clock.pending).toBe(0);
  });

  it("abandoning one prepareImage wait leaves the pull going for the others", async () => {
    const { adapter, clock, state } = simHost();
    const controller = new AbortController();
    const abandoned = adapter.prepareImage(image, controller.signal).catch((e: unknown) => e);
    const kept = adapter.prepareImage(image);
    controller.abort();
    expect(await abandoned).toMatchObject({ reason: "Aborted" });
    await clock.advance(MINUTE);
    expect(await kept).toMatchObject({ state: "ready" });
    expect(state.pullsStarted).toBe(1);
  });

  it("close rejects pending waits with AdapterClosed and fires no more events", async () => {
    const { adapter, clock } = simHost();
    const events: unknown[] = [];
    adapter.onChange((e) => events.push(e));
    const waiting = adapter.prepareImage(image).catch((e: unknown) => e);
    await adapter.create(vmSpec(1));
    await adapter.close();
    expect(await waiting).toMatchObject({ reason: "AdapterClosed" });
    await clock.advance(MINUTE);
    expect(events).toEqual([]);
  });

  it("survives a restart: the new adapter finds old VMs, finishes their provisioning and hints", async () => {
    const first = simHost({ seed: 3 });
    await first.adapter.create(vmSpec(1));
    await first.adapter.create(vmSpec(2));
    await first.adapter.close(); // the agent crashed
    const second = simHost({ seed: 3 }, { clock: first.clock, state: first.state });
    const hinted: string[] = [];
    second.adapter.onChange((e) => e.kind === "vm" && hinted.push(e.id.name));
    expect((await second.adapter.list()).map((vm) => vm.id.name).sort()).toEqual(["desk-1", "desk-2"]);
    await first.clock.advance(MINUTE);
    expect(hinted.sort()).toEqual(["desk-1", "desk-2"]);
    expect((await second.adapter.list()).every((vm) => vm.state === "running")).toBe(true);
  });

  it("fails every call HostUnreachable (retryable) while the host is down", async () => {
    const { adapter, state } = simHost();
    state.unreachable = true;
    await expect(adapter.probe()).rejects.toMatchObject({ reason: "HostUnreachable", retryable: true });
    await expect(adapter.create(vmSpec(1))).rejects.toMatchObject({ reason: "HostUnreachable" });
    state.unreachable = false;
    await expect(adapter.list()).resolves.toEqual([]);
  });

  it("delivers notices only to running VMs", async () => {
    const { adapter, clock, state } = simHost();
    await adapter.create(vmSpec(1));
    expect(await adapter.notify(vmSpec(1).id, "early")).toBe(false);
    await clock.advance(MINUTE);
    expect(await adapter.notify(vmSpec(1).id, "Host maintenance at 18:00")).toBe(true);
    expect(state.vms.get("gd-uid-team-a-1")?.lastNotice).toBe("Host maintenance at 18:00");
  });

  it("gives endpoints unique per host, reusing freed ports", async () => {
    const a = simHost({}, { hostName: "rack1-a" });
    const b = simHost({}, { hostName: "rack1-b" });
    for (const host of [a, b]) for (let i = 0; i < 3; i++) await host.adapter.create(vmSpec(i));
    await a.clock.advance(MINUTE);
    await b.clock.advance(MINUTE);
    const ports = (await a.adapter.list()).map((vm) => portOf(vm));
    expect(ports).toEqual([5900, 5901, 5902]);
    expect((await b.adapter.get(vmSpec(0).id))?.endpoint).toEqual({
      protocol: "vnc",
      host: "rack1-b.sim.invalid",
      port: 5900,
    });
    await a.adapter.destroy(vmSpec(1).id);
    await a.adapter.create(vmSpec(9));
    await a.clock.advance(MINUTE);
    expect(portOf(await a.adapter.get(vmSpec(9).id))).toBe(5901);
  });
});
