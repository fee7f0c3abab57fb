// Leader election between two electors on a real Lease: one leads at a time; the other takes
// over after the lease expires when the leader dies silently, and at once after a release.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { LeaderElector, LEASES } from "../../src/runtime/leader.js";
import { ObjectClient } from "../../src/runtime/client.js";
import type { Lease } from "../../src/runtime/lease-record.js";
import { RestClient } from "../../src/runtime/rest.js";
import { createTestNamespace, deleteNamespace, kubeConfig } from "./support/cluster.js";

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

async function eventually(what: string, check: () => boolean, timeoutMs = 30_000): Promise<number> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - start;
}

async function holder(name: string): Promise<string | undefined> {
  const lease = await new ObjectClient<Lease>(rest(), LEASES).get({ namespace: ns, name });
  return lease.spec?.holderIdentity;
}

describe("LeaderElector against the API server", () => {
  it("elects exactly one leader; the other takes over after the leader stops renewing", async () => {
    const a = elector("silent", "a");
    const b = elector("silent", "b");
    await eventually("a leader", () => a.e.isLeader() || b.e.isLeader());
    // Several renew periods: still exactly one.
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 300));
      expect(Number(a.e.isLeader()) + Number(b.e.isLeader())).toBe(1);
    }
    const [leader, follower] = a.e.isLeader() ? [a, b] : [b, a];
    expect(await holder("silent")).toBe(leader.e.identity);
    expect(leader.state.started).toBe(1);
    expect(follower.state.started).toBe(0);

    // The leader dies without releasing: the follower must wait out the lease, then lead.
    await leader.e.stop(false);
    const waited = await eventually("takeover", () => follower.e.isLeader(), 30_000);
    expect(waited).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - 1000);
    expect(await holder("silent")).toBe(follower.e.identity);
    expect(leader.state.stopped).toBe(0); // a voluntary stop is not a loss
    await follower.e.stop();
  }, 60_000);

  it("after a clean release the other takes over within a retry period or so, not a lease duration", async () => {
    const a = elector("released", "a");
    await eventually("a leads", () => a.e.isLeader());
    const b = elector("released", "b");
    await new Promise((r) => setTimeout(r, 1000));
    expect(b.e.isLeader()).toBe(false);

    await a.e.stop(true);
    expect(await holder("released")).toBe("");
    await eventually("b leads", () => b.e.isLeader(), 30_000);
    expect(await holder("released")).toBe("b");
    const lease = await new ObjectClient<Lease>(rest(), LEASES).get({ namespace: ns, name: "released" });
    expect(lease.spec?.leaseTransitions).toBe(1);
    await b.e.stop();
  }, 60_000);

  it("a leader whose lease is taken away stops leading and reports it", async () => {
    const a = elector("stolen", "a");
    await eventually("a leads", () => a.e.isLeader());
    // Another actor overwrites the lease (an operator, or a partitioned peer): a can no
    // longer renew, and must step down within its renew deadline.
    const client = new ObjectClient<Lease>(rest(), LEASES);
    const current = await client.get({ namespace: ns, name: "stolen" });
    await client.update({
      ...current,
      spec: { ...current.spec, holderIdentity: "intruder", leaseDurationSeconds: 3600 },
    });
    await eventually("a steps down", () => !a.e.isLeader(), 30_000);
    expect(a.state.stopped).toBe(1);
    await a.e.stop();
    expect(await holder("stolen")).toBe("intruder");
  }, 60_000);
});
