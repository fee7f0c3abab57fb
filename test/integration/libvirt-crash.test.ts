// Crashes on a real libvirtd. The agent SIGKILLed while a desktop is provisioning, that desktop
// force-deleted meanwhile (an orphan in the making), the agent restarted: nothing leaks — every
// domain, overlay and record on the host belongs to a live Desktop placed there. The same for
// the controller. Finally, deleting the pool leaves the host empty.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createTestNamespace, deleteNamespace, eventually, installCrds } from "./support/cluster.js";
import { clients, startControllerProcess, uniq } from "./support/griddesk.js";
import { stopAll, type GriddeskProcess } from "./support/processes.js";
import { hostContents, libvirtPool, startLibvirtAgent, type LibvirtAgentArgs } from "./libvirt-agents.js";
import {
  libvirtInstanceDown,
  libvirtInstanceUp,
  removeDir,
  storageDir,
  testImage,
} from "./libvirt-support.js";

jest.setTimeout(400_000);

const id = uniq();
const site = `lvcrash-${id}`;
const host = `lvcrash-${id}`;
const c = clients();
const storage = storageDir("crash");
/** Its own libvirtd, so that "nothing else on the host" means exactly that. */
const instance = "gd-crash";
let nsPid = 0;
let ns = "";
let sys = "";
let agentArgs: LibvirtAgentArgs;
const procs: GriddeskProcess[] = [];
const logs = () => procs.map((p) => `--- ${p.name}\n${p.tail(30)}`).join("\n");

const setBuffer = (buffer: number) => c.pools.mergePatch({ namespace: ns, name: "cc" }, { spec: { buffer } });

/** Waits for the pool to hold `n` Available desktops and the host to hold exactly theirs. */
async function settledWithoutLeaks(n: number): Promise<void> {
  await eventually(
    `${n} Available desktops and nothing else on the host`,
    async () => {
      const desktops = await c.desktops.list({ namespace: ns });
      const live = desktops.filter((d) => !d.metadata.deletionTimestamp && d.status?.phase === "Available");
      if (live.length !== n || desktops.length !== n) return false;
      const uids = desktops.map((d) => d.metadata.uid as string).sort();
      const { domains, overlays, records } = hostContents(storage, nsPid);
      return [domains, overlays, records].every((have) => JSON.stringify(have) === JSON.stringify(uids));
    },
    240_000,
    1000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\nhost: ${JSON.stringify(hostContents(storage, nsPid))}\n${logs()}`);
  });
}

/** The desktop (other than `known`) whose VM the host has a record of but has not started yet. */
async function provisioningDesktop(known: readonly string[]) {
  return eventually(
    "a desktop caught while provisioning",
    async () => {
      const list = await c.desktops.list({ namespace: ns });
      const { records } = hostContents(storage, nsPid);
      return list.find(
        (d) => !known.includes(d.metadata.uid as string) && records.includes(d.metadata.uid as string),
      );
    },
    60_000,
    50,
  );
}

beforeAll(async () => {
  nsPid = libvirtInstanceUp(instance);
  await installCrds();
  ns = await createTestNamespace("lvcrash");
  sys = await createTestNamespace("lvcrash-sys");
  agentArgs = { systemNamespace: sys, host, storagePath: storage, labels: { site }, nsPid };
  procs.push(startControllerProcess("lvc-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  procs.push(startLibvirtAgent("lvc-agent", agentArgs));
  const pool = libvirtPool(ns, "cc", testImage(), { buffer: 1, hostSelector: { matchLabels: { site } } });
  await c.pools.create(pool);
  await settledWithoutLeaks(1);
});

afterAll(async () => {
  await c.pools.delete({ namespace: ns, name: "cc" }).catch(() => undefined);
  await stopAll(procs);
  await deleteNamespace(ns);
  await deleteNamespace(sys);
  await c.hosts.delete({ name: host }).catch(() => undefined);
  libvirtInstanceDown(instance);
  removeDir(storage);
});

describe("crashes on a libvirt host", () => {
  it("agent SIGKILLed mid-provisioning, its desktop force-deleted, agent restarted: no leaks", async () => {
    const known = (await c.desktops.list({ namespace: ns })).map((d) => d.metadata.uid as string);
    await setBuffer(2);
    const victim = await provisioningDesktop(known);
    await procs[1]?.kill("SIGKILL");
    const key = { namespace: ns, name: victim.metadata.name as string };
    await c.desktops.mergePatch(key, { metadata: { finalizers: null } });
    await c.desktops.delete(key).catch(() => undefined);
    expect(hostContents(storage, nsPid).records).toContain(victim.metadata.uid);

    procs[1] = startLibvirtAgent("lvc-agent", agentArgs);
    await settledWithoutLeaks(2);
    expect(hostContents(storage, nsPid).records).not.toContain(victim.metadata.uid);
  });

  it("controller SIGKILLed mid-provisioning and restarted: no leaks", async () => {
    const known = (await c.desktops.list({ namespace: ns })).map((d) => d.metadata.uid as string);
    await setBuffer(3);
    await provisioningDesktop(known);
    await procs[0]?.kill("SIGKILL");
    procs[0] = startControllerProcess("lvc-controller", { systemNamespace: sys, gracePeriodSeconds: 30 });
    await settledWithoutLeaks(3);
  });

  it("scaling the pool to zero leaves the host empty", async () => {
    await setBuffer(0);
    await settledWithoutLeaks(0);
  });
});
