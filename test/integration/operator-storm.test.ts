// A logon storm: 200 concurrent logons against a warm buffer of 50 on six simulated hosts of
// three sizes, with the controller SIGKILLed in the middle and restarted. Every session must
// end Ready on its own desktop, no host may be over capacity, and no VM may leak.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { parseBytes, parseCpuMilli } from "../../src/scheduler/index.js";
import { createTestNamespace, eventually, installCrds } from "./support/cluster.js";
import {
  clients,
  inParallel,
  poolObject,
  sessionObject,
  simulatedVmUids,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
  tearDown,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(420_000);

const SESSIONS = 200;
const BUFFER = 50;
const id = uniq();
const site = `storm-${id}`;
const hosts = Array.from({ length: 6 }, (_, i) => `storm-${id}-${i}`);
const stateDir = tempStateDir();
const c = clients();
let ns = "";
let sys = "";
const procs: GriddeskProcess[] = [];

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("storm");
  sys = await createTestNamespace("storm-sys");
  procs.push(startControllerProcess("storm-controller-1", { systemNamespace: sys }));
  procs.push(
    startSimulatedAgent("storm-agent", {
      systemNamespace: sys,
      hosts,
      stateDir,
      labels: { site },
      provisionMs: 200,
    }),
  );
  await c.pools.create(
    poolObject(ns, "storm", {
      buffer: BUFFER,
      max: 400,
      resources: { cpu: "1", memory: "2Gi", disk: "10Gi" },
      hostSelector: { matchLabels: { site } },
      placement: { strategy: "BreadthFirst", maxProvisioningPerHost: 10 },
    }),
  );
  await eventually(
    "warm buffer of 50",
    async () => (await c.pools.get({ namespace: ns, name: "storm" })).status?.available === BUFFER,
    120_000,
  );
});

afterAll(async () => {
  await tearDown(procs, [ns, sys], hosts);
});

describe("logon storm with a controller crash", () => {
  it("gives every user a distinct desktop, never overfills a host, and leaks nothing", async () => {
    const users = Array.from({ length: SESSIONS }, (_, i) => `user-${i}`);
    let created = 0;
    const storm = inParallel(users, 40, async (u) => {
      await c.sessions.create(sessionObject(ns, "storm", u));
      created++;
    });
    // SIGKILL the controller mid-storm, then start a fresh one.
    await eventually("half the storm sent", async () => created >= SESSIONS / 2, 60_000, 20);
    await procs[0]?.kill("SIGKILL");
    procs.push(startControllerProcess("storm-controller-2", { systemNamespace: sys }));
    await storm;

    const sessions = await eventually(
      "all sessions Ready",
      async () => {
        const list = (await c.sessions.list({ namespace: ns })).filter((s) => s.spec.poolRef === "storm");
        return list.length === SESSIONS && list.every((s) => s.status?.phase === "Ready") ? list : undefined;
      },
      300_000,
      1000,
    );
    const desktopNames = sessions.map((s) => s.status?.desktopRef);
    expect(new Set(desktopNames).size).toBe(SESSIONS);

    const desktops = await c.desktops.list({ namespace: ns });
    const bySession = new Map<string, number>();
    for (const d of desktops)
      if (d.spec.sessionRef)
        bySession.set(d.spec.sessionRef.uid, (bySession.get(d.spec.sessionRef.uid) ?? 0) + 1);
    for (const s of sessions) expect(bySession.get(s.metadata.uid as string)).toBe(1);
    for (const s of sessions) {
      const d = desktops.find((x) => x.metadata.name === s.status?.desktopRef);
      expect(d?.spec.sessionRef?.uid).toBe(s.metadata.uid);
    }

    // Capacity after overcommit, per host, from the API objects.
    for (const h of await Promise.all(hosts.map((name) => c.hosts.get({ name })))) {
      const on = desktops.filter((d) => d.spec.hostRef === h.metadata.name);
      const cpu = on.reduce((sum, d) => sum + parseCpuMilli(d.spec.resources.cpu), 0);
      const mem = on.reduce((sum, d) => sum + parseBytes(d.spec.resources.memory), 0);
      const cap = h.status?.capacity;
      expect(cap).toBeDefined();
      expect(cpu).toBeLessThanOrEqual(parseCpuMilli(cap?.cpu ?? 0) * (h.spec.overcommit?.cpu ?? 1));
      expect(mem).toBeLessThanOrEqual(parseBytes(cap?.memory ?? 0) * (h.spec.overcommit?.memory ?? 1));
    }

    // The buffer refills and the simulated hosts run exactly the desktops that exist.
    await eventually(
      "buffer refilled and no VM leaked",
      async () => {
        const p = await c.pools.get({ namespace: ns, name: "storm" });
        const live = (await c.desktops.list({ namespace: ns })).map((d) => d.metadata.uid as string).sort();
        const vms = simulatedVmUids(stateDir);
        return p.status?.available === BUFFER && JSON.stringify(live) === JSON.stringify(vms);
      },
      120_000,
      1000,
    );
  });
});
