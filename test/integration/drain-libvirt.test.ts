// A drain of a real libvirt host: a controller, a libvirt agent on the host's real libvirtd and a
// simulated agent's host in the same pool. Both users on the libvirt host are told — in their
// session's status and on their desktop's screen, through the guest's serial port — the idle
// desktop goes at once and the pool refills on the other host, one user logs off early and the
// other is forced off at the deadline; both QEMU domains and overlays are gone and the host is
// Drained.
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { DesktopSession } from "../../src/api/types.generated.js";
import { sendNotice } from "../../src/hypervisors/libvirt/notice-channel.js";
import type { Informer } from "../../src/runtime/index.js";
import {
  condition,
  cordon,
  drainRequest,
  expectForcedOffAtDeadline,
  followSessions,
  hostReady,
  logOn,
} from "./drain-support.js";
import { hostContents, libvirtPool, startLibvirtAgent } from "./libvirt-agents.js";
import { contentRows, screenshot } from "./libvirt-screen.js";
import { imageRoot, libvirtUp, removeDir, storageDir, testImage } from "./libvirt-support.js";
import {
  createTestNamespace,
  deleteNamespace,
  eventually,
  installCrds,
  mustKubectl,
} from "./support/cluster.js";
import {
  clients,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
} from "./support/griddesk.js";
import { stopAll, type GriddeskProcess } from "./support/processes.js";

jest.setTimeout(400_000);

const id = uniq();
const site = `dlv-${id}`;
const LV = `dlv-${id}-libvirt`;
const SIM = `dlv-${id}-sim`;
const storage = storageDir("drain");
const c = clients();
const procs: GriddeskProcess[] = [];
const watches: Informer<DesktopSession>[] = [];
let ns = "";
let sys = "";
const fail = (err: unknown) => {
  throw new Error(`${String(err)}\n${procs.map((p) => `--- ${p.name}\n${p.tail(40)}`).join("\n")}`);
};

beforeAll(async () => {
  libvirtUp();
  const image = testImage();
  await installCrds();
  ns = await createTestNamespace("dlv");
  sys = await createTestNamespace("dlv-sys");
  procs.push(startControllerProcess("dlv-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  procs.push(
    startLibvirtAgent("dlv-agent", {
      systemNamespace: sys,
      host: LV,
      storagePath: storage,
      labels: { site },
    }),
  );
  procs.push(
    startSimulatedAgent("dlv-sim", {
      systemNamespace: sys,
      hosts: [SIM],
      stateDir: tempStateDir(),
      labels: { site },
      sourceRoots: [imageRoot(image)], // the pool spans both kinds of host: the same image everywhere
      extra: ["--lease-duration", "30", "--lease-renew-interval", "5"],
    }),
  );
  await Promise.all([hostReady(LV, 120_000), hostReady(SIM)]).catch(fail);
  // Everyone starts on the libvirt host: the simulated one is cordoned until the drain.
  await cordon(SIM).catch(fail);
  await c.pools.create(libvirtPool(ns, "lab", image, { buffer: 1, hostSelector: { matchLabels: { site } } }));
  const sessions = await logOn(ns, "lab", ["ada", "bo"], 240_000).catch(fail);
  expect(sessions.map((s) => s.status?.hostRef)).toEqual([LV, LV]);
  await eventually(
    "the idle desktop warm on the libvirt host",
    async () => (await c.pools.get({ namespace: ns, name: "lab" })).status?.available === 1,
    180_000,
    1000,
  ).catch(fail);
  await c.hosts.mergePatch({ name: SIM }, { spec: { unschedulable: false } });
});

afterAll(async () => {
  await Promise.all(watches.map((w) => w.stop()));
  await c.pools.delete({ namespace: ns, name: "lab" }).catch(() => undefined);
  await eventually(
    "desktops gone",
    async () => (await c.desktops.list({ namespace: ns })).length === 0,
    90_000,
  ).catch(() => undefined);
  await stopAll(procs);
  await deleteNamespace(ns);
  await deleteNamespace(sys);
  for (const name of [LV, SIM]) await c.hosts.delete({ name }).catch(() => undefined);
  removeDir(storage);
});

describe("drain of a libvirt host", () => {
  it("tells users on screen, forces the last one off at the deadline, leaves no domain or overlay", async () => {
    const desktops = await c.desktops.list({ namespace: ns });
    const bound = desktops.filter((d) => d.spec.sessionRef);
    const idle = desktops.filter((d) => !d.spec.sessionRef);
    expect(bound).toHaveLength(2);
    const domainOf = (uid: string | undefined) => `gd-${uid}`;
    // Both guests listen on their serial port before the drain (a guest still booting would not
    // answer in time, and the agent does not ask twice): the test says hello first, the same way.
    const before = new Map<string, number>();
    for (const d of bound) {
      const uid = d.metadata.uid as string;
      await eventually(
        `${d.metadata.name}'s guest listens for notices`,
        () => sendNotice(path.join(storage, "notices", `${uid}.sock`), "hello from the test", 2000),
        120_000,
        1000,
      );
      await new Promise((r) => setTimeout(r, 500)); // let the console finish drawing the line
      before.set(uid, contentRows(screenshot(domainOf(uid))));
    }

    const seen = await followSessions(ns);
    watches.push(seen.informer);
    await c.hosts.mergePatch({ name: LV }, { spec: { drain: drainRequest("25s") } });
    const deadline = await eventually(
      "the drain's deadline in the host's status",
      async () => (await c.hosts.get({ name: LV })).status?.drain?.deadline,
      30_000,
    ).catch(fail);
    await eventually("both users notified", async () => seen.notified.size === 2, 30_000, 50).catch(fail);
    for (const [name, at] of seen.notified)
      expect({ name, beforeDeadline: at < Date.parse(deadline) }).toEqual({ name, beforeDeadline: true });

    // The message reached each guest: the agent says so in an Event, and a line of text appeared.
    await eventually(
      "NoticeDelivered for both desktops",
      async () => {
        const out = await mustKubectl([
          ...["get", "events", "-n", ns, "--field-selector", "reason=NoticeDelivered"],
          ...["-o", "jsonpath={range .items[*]}{.involvedObject.uid} {end}"],
        ]);
        return bound.every((d) => out.includes(d.metadata.uid as string));
      },
      60_000,
      500,
    ).catch(fail);
    // The guest draws the lines after it has taken them: wait for the screen, do not read it once.
    for (const d of bound) {
      const uid = d.metadata.uid as string;
      const want = (before.get(uid) as number) + 6;
      let rows = 0;
      await eventually(
        `${d.metadata.name}'s screen shows the notice (at least ${want} rows of text)`,
        () => (rows = contentRows(screenshot(domainOf(uid)))) >= want,
        30_000,
        1000,
      ).catch((err: unknown) => fail(`${String(err)}; last screen had ${rows} rows`));
    }

    // The idle desktop goes at once; the pool refills on the simulated host.
    await eventually("idle desktop gone, buffer refilled on the simulated host", async () => {
      const now = await c.desktops.list({ namespace: ns });
      const warm = now.filter((d) => !d.spec.sessionRef && d.status?.phase === "Available");
      return idle.every((i) => !now.some((d) => d.metadata.uid === i.metadata.uid)) &&
        warm.length === 1 &&
        warm[0]?.spec.hostRef === SIM
        ? true
        : undefined;
    }).catch(fail);
    expect(hostContents(storage).domains).not.toContain(idle[0]?.metadata.uid);

    // ada logs off early and ends normally; bo stays and is forced off at the deadline, not before.
    await c.sessions.delete({ namespace: ns, name: "ada" });
    await eventually(
      "bo forced off",
      async () => seen.ended.has("bo"),
      Math.max(0, Date.parse(deadline) - Date.now()) + 120_000,
      100,
    ).catch(fail);
    expect([...seen.ended.keys()]).toEqual(["bo"]);
    expectForcedOffAtDeadline(seen, deadline, ["ada"]);

    await eventually(
      "host Drained",
      async () => condition(await c.hosts.get({ name: LV }), "Drained")?.status === "True",
      60_000,
    ).catch(fail);
    await eventually(
      "no domain, overlay or record left on the libvirt host",
      async () => {
        const left = hostContents(storage); // the libvirtd may run other tests' domains too
        const ours = left.domains.filter((uid) => desktops.some((d) => d.metadata.uid === uid));
        return ours.length + left.overlays.length + left.records.length === 0;
      },
      60_000,
      500,
    ).catch((err: unknown) => fail(`${String(err)}: ${JSON.stringify(hostContents(storage))}`));
  });
});
