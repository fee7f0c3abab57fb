// Leader election between two electors on a real Lease: one leads at a time; the other takes
// over after the lease expires when the leader dies silently, and at once after a release.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { LeaderElector, LEASES } from "../../src/runtime/leader.js";
import { ObjectClient } from "../../src/runtime/client.js";
import type { Lease } from "../../src/runtime/lease-record.js";
import { RestClient } from "../../src/runtime/rest.js";
import { createTestNamespace, deleteNamespace, eventually, kubeConfig } from "./support/cluster.js";

// Short but proportionate durations: lease 3 s, renew deadline 2 s, retry 0.5 s.
const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };

let ns: string;
const rest = () => new RestClient(kubeConfig());

beforeAll(async () => {
  ns = await createTestNamespace("rt-leader");
});
afterAll(async () => deleteNamespace(ns));

function elector(name: string, identity: string) {
  const state = { started: 0, stopped: 0 };
  const e = new LeaderElector(rest(), {
    namespace: ns,
    name,
    identity,
    ...TIMING,
    onStartedLeading: () => state.started++,
    onStoppedLeading: () => state.stopped++,
  });
  void e.run();
  return { e, state };
}

async function lease(name: string): Promise<Lease> {
  return new ObjectClient<Lease>(rest(), LEASES).get({ namespace: ns, name });
}

async function holder(name: string): Promise<string | undefined> {
  return (await lease(name)).spec?.holderIdentity;
}

describe("LeaderElector against the API server", () => {
  it("elects exactly one leader; the other takes over after the leader stops renewing", async () => {
    const a = elector("silent", "a");
    const b = elector("silent", "b");
    await eventually("a leader", () => a.e.isLeader() || b.e.isLeader(), 30_000, 50);
    // Several renew periods: still exactly one.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      expect(Number(a.e.isLeader()) + Number(b.e.isLeader())).toBe(1);
    }
    const [leader, follower] = a.e.isLeader() ? [a, b] : [b, a];
    expect(await holder("silent")).toBe(leader.e.identity);
    expect(leader.state.started).toBe(1);
    expect(follower.state.started).toBe(0);

    // The leader dies without releasing: the follower must wait out the lease, then lead. Judged
    // by the Lease's own times (the follower takes it no sooner than a lease duration after the
    // leader's last renewal), not by this test's stopwatch, which a busy machine stretches.
    await leader.e.stop(false);
    const last = (await lease("silent")).spec;
    expect(last?.holderIdentity).toBe(leader.e.identity);
    const lastRenewal = Date.parse(last?.renewTime as string);
    await eventually("takeover", () => follower.e.isLeader(), 30_000, 50);
    const taken = (await lease("silent")).spec;
    expect(taken?.holderIdentity).toBe(follower.e.identity);
    expect(Date.parse(taken?.acquireTime as string) - lastRenewal).toBeGreaterThanOrEqual(
      TIMING.leaseDurationMs,
    );
    expect(leader.state.stopped).toBe(0); // a voluntary stop is not a loss
    await follower.e.stop();
  }, 60_000);

  it("after a clean release the lease is free and the other takes it", async () => {
    const a = elector("released", "a");
    await eventually("a leads", () => a.e.isLeader(), 30_000, 50);
    const b = elector("released", "b");
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.e.isLeader()).toBe(false);

    await a.e.stop(true);
    // Released: nobody holds it, unless b's next try (due any moment) has already taken it.
    expect(["", "b"]).toContain(await holder("released"));
    await eventually("b leads", () => b.e.isLeader(), 30_000, 50);
    const released = await lease("released");
    expect(released.spec?.holderIdentity).toBe("b");
    expect(released.spec?.leaseTransitions).toBe(1);
    await b.e.stop();
  }, 60_000);

  it("a leader whose lease is taken away stops leading and reports it", async () => {
    const a = elector("stolen", "a");
    await eventually("a leads", () => a.e.isLeader(), 30_000, 50);
    // Another actor overwrites the lease (an operator, or a partitioned peer): a can no
    // longer renew, and must step down within its renew deadline.
    const client = new ObjectClient<Lease>(rest(), LEASES);
    const current = await client.get({ namespace: ns, name: "stolen" });
    await client.update({
      ...current,
      spec: { ...current.spec, holderIdentity: "intruder", leaseDurationSeconds: 3600 },
    });
    await eventually("a steps down", () => !a.e.isLeader(), 30_000, 50);
    expect(a.state.stopped).toBe(1);
    await a.e.stop();
    expect(await holder("stolen")).toBe("intruder");
  }, 60_000);
});
