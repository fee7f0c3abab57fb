// Two controller replicas: only the Lease holder reconciles; SIGKILL it and the other takes
// over (after the lease expires) and serves logons.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createTestNamespace, eventually, installCrds, kubectl } from "./support/cluster.js";
import {
  clients,
  poolObject,
  sessionObject,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
  tearDown,
} from "./support/griddesk.js";
import { metricSum, servedPort, type GriddeskProcess } from "./support/processes.js";

jest.setTimeout(240_000);

const id = uniq();
const site = `leader-${id}`;
const hosts = [`leader-${id}-a`];
const c = clients();
let ns = "";
let sys = "";
const replicas = new Map<string, GriddeskProcess>();
let agent: GriddeskProcess | undefined;

async function holder(): Promise<string | undefined> {
  const r = await kubectl([
    "get",
    "lease",
    "griddesk-controller",
    "-n",
    sys,
    "-o",
    "jsonpath={.spec.holderIdentity}",
  ]);
  return r.code === 0 && r.stdout ? r.stdout : undefined;
}

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("leader");
  sys = await createTestNamespace("leader-sys");
  for (const name of ["replica-a", "replica-b"])
    replicas.set(
      name,
      startControllerProcess(name, { systemNamespace: sys, leaderElect: true, extra: ["--identity", name] }),
    );
  agent = startSimulatedAgent("leader-agent", {
    systemNamespace: sys,
    hosts,
    stateDir: tempStateDir(),
    labels: { site },
  });
  await c.pools.create(poolObject(ns, "cc", { buffer: 1, hostSelector: { matchLabels: { site } } }));
});

afterAll(async () => {
  await tearDown([...replicas.values(), agent], [ns, sys], hosts);
});

describe("leader election", () => {
  it("lets only the leader reconcile, and fails over when it dies", async () => {
    const first = await eventually("a leader", holder, 120_000);
    const leader = replicas.get(first) as GriddeskProcess;
    const standbyName = first === "replica-a" ? "replica-b" : "replica-a";
    const standby = replicas.get(standbyName) as GriddeskProcess;

    await c.sessions.create(sessionObject(ns, "cc", "alice"));
    await eventually(
      "alice Ready",
      async () => (await c.sessions.get({ namespace: ns, name: "alice" })).status?.phase === "Ready",
      90_000,
    );
    const [leaderPort, standbyPort] = await Promise.all([servedPort(leader), servedPort(standby)]);
    await eventually(
      "the leader's reconciles counted",
      async () => (await metricSum(leaderPort, "controller_runtime_reconcile_total")) > 0,
      30_000,
    );
    expect(await metricSum(standbyPort, "controller_runtime_reconcile_total")).toBe(0);
    expect(await metricSum(standbyPort, "leader_election_master_status")).toBe(0);

    await leader.kill("SIGKILL");
    await eventually(
      "the standby takes the lease",
      async () => (await holder()) === standbyName,
      60_000,
      500,
    );
    await c.sessions.create(sessionObject(ns, "cc", "bob"));
    await eventually(
      "bob Ready after failover",
      async () => (await c.sessions.get({ namespace: ns, name: "bob" })).status?.phase === "Ready",
      90_000,
    );
    // Counted when each reconcile returns, just after the write the test saw: wait for the figures.
    await eventually(
      "the new leader's metrics: reconciles counted, leading",
      async () =>
        (await metricSum(standbyPort, "controller_runtime_reconcile_total")) > 0 &&
        (await metricSum(standbyPort, "leader_election_master_status")) === 1,
      30_000,
    );
  });
});
