// The agent's desktop side against a real API server: a Desktop becomes Available with an
// endpoint, InUse once bound; a VM that vanishes fails it (VMLost); deleting it destroys the VM
// before the finalizer goes; a restarted agent over the same state keeps running desktops as
// they are, without re-creating their VMs.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { AgentHandle } from "../../src/agent/index.js";
import type { Desktop } from "../../src/api/index.js";
import {
  cleanUp,
  clients,
  desktopManifest,
  eventReasons,
  getDesktop,
  startSimAgent,
  suffix,
} from "./agent-support.js";
import { createTestNamespace, deleteNamespace, eventually, installCrds } from "./support/cluster.js";

jest.setTimeout(90_000);

const id = suffix();
const [hostA, hostB, slowHost] = [`agd-${id}-a`, `agd-${id}-b`, `agd-${id}-slow`];
const sysNs = `agd-sys-${id}`;
const agentName = `agent-${id}`;
let ns: string;
let stateDir: string;
let agent: AgentHandle;

const start = (): Promise<AgentHandle> =>
  startSimAgent({ name: agentName, hosts: [hostA, hostB], systemNamespace: sysNs, stateDir });

async function createDesktop(name: string, host: string): Promise<Desktop> {
  return clients.desktops.create(desktopManifest(ns, name, host, agentName));
}

function phase(name: string, wanted: string): Promise<Desktop> {
  return eventually(`${name} ${wanted}`, async () => {
    const d = await getDesktop(ns, name);
    return d?.status?.phase === wanted ? d : undefined;
  });
}

const identity = (d: Desktop) => ({
  namespace: ns,
  name: d.metadata.name as string,
  uid: d.metadata.uid as string,
});

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("agent-desktops");
  stateDir = await mkdtemp(join(tmpdir(), "gd-agent-desktops-"));
  agent = await start();
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await cleanUp(ns, [hostA, hostB, slowHost], sysNs);
  await Promise.all([deleteNamespace(ns), deleteNamespace(sysNs)]);
  await rm(stateDir, { recursive: true, force: true });
}, 60_000);

describe("griddesk agent: desktops", () => {
  it("makes a Desktop real: Available with an endpoint, then InUse once bound", async () => {
    await createDesktop("desk-1", hostA);
    const available = await phase("desk-1", "Available");
    expect(available.status?.endpoint).toMatchObject({ protocol: "vnc", host: `${hostA}.sim.invalid` });
    expect(available.status?.vmId).toBe(`gd-${available.metadata.uid}`);
    expect(available.status?.provisionedAt).toBeDefined();
    const ready = available.status?.conditions?.find((c) => c.type === "Ready");
    expect(ready).toMatchObject({ status: "True", reason: "DesktopReady", observedGeneration: 1 });
    expect(await agent.adapter(hostA)?.get(identity(available))).toMatchObject({ state: "running" });
    // (A VM up within the agent's first-report grace skips the Provisioning report and Event.)
    await eventually("DesktopReady Event", async () =>
      (await eventReasons(ns, "desk-1")).includes("DesktopReady"),
    );

    await clients.desktops.mergePatch(
      { namespace: ns, name: "desk-1" },
      { spec: { sessionRef: { name: "alice-1", uid: "s-1" } } },
    );
    const inUse = await phase("desk-1", "InUse");
    expect(inUse.status?.endpoint).toEqual(available.status?.endpoint);
    expect(inUse.status?.provisionedAt).toBe(available.status?.provisionedAt);
  });

  it("reports the image it pulled in the host's status", async () => {
    await eventually("image in HostNode status", async () => {
      const node = await clients.hosts.get({ name: hostA });
      return node.status?.images?.some((i) => i.state === "Ready");
    });
  });

  it("keeps running desktops as they are across an agent restart over the same state", async () => {
    const before = await phase("desk-1", "InUse");
    const vmBefore = await agent.adapter(hostA)?.get(identity(before));
    await agent.stop();
    agent = await start();
    // The new agent replays its cache in order: once desk-2 (created later) is Available, it has
    // looked at desk-1 too.
    await createDesktop("desk-2", hostB);
    await phase("desk-2", "Available");
    await eventually("desk-1 looked at again", async () => {
      const vm = await agent.adapter(hostA)?.get(identity(before));
      return vm?.state === "running" && (await eventReasons(ns, "desk-2")).includes("DesktopReady");
    });
    const after = await getDesktop(ns, "desk-1");
    expect(after?.status?.phase).toBe("InUse");
    expect(after?.status?.endpoint).toEqual(before.status?.endpoint);
    expect(after?.status?.vmId).toBe(before.status?.vmId);
    expect((await agent.adapter(hostA)?.get(identity(before)))?.createdAt).toBe(vmBefore?.createdAt);
    expect((await eventReasons(ns, "desk-1")).filter((r) => r === "DesktopReady")).toHaveLength(1);
  });

  it("fails a desktop whose VM vanished (VMLost) and leaves it Failed", async () => {
    const d = await phase("desk-2", "Available");
    await agent.adapter(hostB)?.destroy(identity(d)); // behind the agent's back, no hint
    const failed = await phase("desk-2", "Failed");
    expect(failed.status?.conditions?.find((c) => c.type === "Ready")).toMatchObject({
      status: "False",
      reason: "VMLost",
    });
    expect(failed.status?.endpoint).toBeUndefined();
    await eventually("VMLost Event", async () => (await eventReasons(ns, "desk-2")).includes("VMLost"));
    expect(await agent.adapter(hostB)?.get(identity(d))).toBeNull(); // not re-created
  });

  it("reports a VM slower than the first-report grace as Provisioning, with its Event, then Available", async () => {
    // A second agent whose VMs take 10 s: the Provisioning report is due after 1 s.
    const slowAgent = `${agentName}-slow`;
    const slow = await startSimAgent({
      name: slowAgent,
      hosts: [slowHost],
      systemNamespace: sysNs,
      provisionMs: 10_000,
    });
    try {
      await clients.desktops.create(desktopManifest(ns, "desk-slow", slowHost, slowAgent));
      const provisioning = await phase("desk-slow", "Provisioning");
      expect(provisioning.status?.endpoint).toBeUndefined();
      await eventually("Provisioning Event", async () =>
        (await eventReasons(ns, "desk-slow")).includes("Provisioning"),
      );
      await phase("desk-slow", "Available");
      await clients.desktops.delete({ namespace: ns, name: "desk-slow" });
      await eventually("desk-slow gone", async () => (await getDesktop(ns, "desk-slow")) === undefined);
    } finally {
      await slow.stop();
    }
  });

  it("destroys the VM before removing the finalizer when a Desktop is deleted", async () => {
    const d = (await getDesktop(ns, "desk-1")) as Desktop;
    await clients.desktops.delete({ namespace: ns, name: "desk-1" });
    await eventually("desk-1 gone", async () => (await getDesktop(ns, "desk-1")) === undefined);
    expect(await agent.adapter(hostA)?.get(identity(d))).toBeNull();
    await eventually("Destroyed Event", async () => (await eventReasons(ns, "desk-1")).includes("Destroyed"));
    await clients.desktops.delete({ namespace: ns, name: "desk-2" });
    await eventually("desk-2 gone", async () => (await getDesktop(ns, "desk-2")) === undefined);
  });
});
