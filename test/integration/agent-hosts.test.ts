// The agent's host side against a real API server: registration (create, or adopt an existing
// HostNode), host status, heartbeat Leases, one agent per host, and orphans removed at start.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { AgentHandle } from "../../src/agent/index.js";
import { SimulatedStateStore } from "../../src/agent/index.js";
import { simulatedAdapterFactory } from "../../src/hypervisors/simulated/index.js";
import { silentLogger, systemClock } from "../../src/runtime/index.js";
import { cleanUp, clients, eventReasons, SHA, SOURCES, startSimAgent, suffix } from "./agent-support.js";
import { deleteNamespace, eventually, installCrds } from "./support/cluster.js";

jest.setTimeout(90_000);

const id = suffix();
const [hostA, hostB] = [`agt-${id}-a`, `agt-${id}-b`];
const sysNs = `agt-sys-${id}`;
const agentName = `agent-${id}`;
let stateDir: string;
let agent: AgentHandle;

/** Leaves a VM on host A that no Desktop accounts for, as a crashed agent might. */
async function leaveOrphan(): Promise<void> {
  const store = new SimulatedStateStore(stateDir, systemClock, silentLogger());
  const states = await store.load([hostA]);
  const adapter = simulatedAdapterFactory({ states, sources: SOURCES })({ hostName: hostA, settings: {} });
  await adapter.create({
    id: { namespace: "gone", name: "ghost", uid: `ghost-${id}` },
    cpuMilli: 1000,
    memoryBytes: 1024 ** 3,
    diskBytes: 1024 ** 3,
    image: { source: "file:///srv/images/test.qcow2", sha256: SHA, format: "qcow2" },
  });
  await adapter.close();
  store.changed(hostA);
  await store.flush();
}

beforeAll(async () => {
  await installCrds();
  stateDir = await mkdtemp(join(tmpdir(), "gd-agent-hosts-"));
  await leaveOrphan();
  await clients.hosts.create({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "HostNode",
    metadata: { name: hostB, labels: { keep: "me" } },
    spec: { hypervisor: { type: "simulated", simulated: { profile: "large" } }, capacity: { cpu: 12 } },
  });
  agent = await startSimAgent({
    name: agentName,
    hosts: [hostA, hostB],
    systemNamespace: sysNs,
    stateDir,
    hostLabels: { zone: "sim" },
  });
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await cleanUp("default", [hostA, hostB], sysNs);
  await deleteNamespace(sysNs);
  await rm(stateDir, { recursive: true, force: true });
}, 60_000);

describe("griddesk agent: hosts", () => {
  it("registers a missing HostNode and adopts an existing one, reporting facts and capacity", async () => {
    expect(agent.servedHosts().sort()).toEqual([hostA, hostB]);
    const a = await eventually("host A status", async () => {
      const node = await clients.hosts.get({ name: hostA });
      return node.status?.capacity ? node : undefined;
    });
    expect(a.metadata.labels).toMatchObject({
      "griddesk.io/agent": agentName,
      "griddesk.io/hypervisor": "simulated",
      zone: "sim",
    });
    expect(a.spec.hypervisor).toEqual({ type: "simulated", simulated: { profile: "small" } });
    expect(a.status).toMatchObject({
      agent: agentName,
      facts: { cpuModel: "Intel Xeon E-2388G", cores: 8, memory: "64Gi" },
      capacity: { cpu: "8", memory: "64Gi", localStorage: "1Ti" },
    });

    const b = await eventually("host B status", async () => {
      const node = await clients.hosts.get({ name: hostB });
      return node.status?.capacity ? node : undefined;
    });
    expect(b.metadata.labels).toMatchObject({ keep: "me", "griddesk.io/agent": agentName, zone: "sim" });
    expect(b.status?.facts).toMatchObject({ cores: 96 }); // the spec's profile, not the agent's default
    expect(b.status?.capacity).toEqual({ cpu: 12, memory: "1Ti", localStorage: "8Ti" }); // spec.capacity wins
  });

  it("holds and renews one heartbeat Lease per host in the system namespace it created", async () => {
    const first = await clients.leases.get({ namespace: sysNs, name: `host-${hostA}` });
    expect(first.metadata.labels).toEqual({ "griddesk.io/host": hostA });
    expect(first.spec).toMatchObject({ holderIdentity: agentName, leaseDurationSeconds: 40 });
    await eventually("Lease renewals", async () => {
      const [a, b] = await Promise.all(
        [hostA, hostB].map((h) => clients.leases.get({ namespace: sysNs, name: `host-${h}` })),
      );
      return a?.spec?.renewTime !== first.spec?.renewTime && b?.spec?.holderIdentity === agentName;
    });
  });

  it("removes a VM no Desktop accounts for, with an OrphanRemoved Event on the HostNode", async () => {
    await eventually("orphan removed", async () => (await agent.adapter(hostA)?.list())?.length === 0);
    await eventually("OrphanRemoved Event", async () =>
      (await eventReasons("default", hostA)).includes("OrphanRemoved"),
    );
  });

  it("never serves a host whose Lease another agent renews", async () => {
    const rival = await startSimAgent({ name: `rival-${id}`, hosts: [hostA], systemNamespace: sysNs });
    try {
      expect(rival.servedHosts()).toEqual([]);
      const lease = await clients.leases.get({ namespace: sysNs, name: `host-${hostA}` });
      expect(lease.spec?.holderIdentity).toBe(agentName);
      expect((await clients.hosts.get({ name: hostA })).metadata.labels?.["griddesk.io/agent"]).toBe(
        agentName,
      );
    } finally {
      await rival.stop();
    }
  });
});
