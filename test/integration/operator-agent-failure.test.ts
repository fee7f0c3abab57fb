// An agent SIGKILLed: its hosts go NotReady once their heartbeat expires, the sessions there end
// with a reason a user can read, and the pool refills on the other agent's host. The agent
// restarted over the same host state: its hosts come back and no VM is leaked.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createTestNamespace, eventually, installCrds } from "./support/cluster.js";
import {
  clients,
  poolObject,
  sessionObject,
  simulatedVmUids,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
  type AgentArgs,
  tearDown,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(300_000);

const id = uniq();
const site = `agentfail-${id}`;
const hostsA = [`agentfail-${id}-a1`, `agentfail-${id}-a2`];
const hostsB = [`agentfail-${id}-b1`];
const c = clients();
let ns = "";
let sys = "";
const procs: GriddeskProcess[] = [];
let argsA: AgentArgs;

const ready = async (host: string) =>
  (await c.hosts.get({ name: host })).status?.conditions?.find((x) => x.type === "Ready")?.status;

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("agentfail");
  sys = await createTestNamespace("agentfail-sys");
  argsA = { systemNamespace: sys, hosts: hostsA, stateDir: tempStateDir(), labels: { site } };
  procs.push(startControllerProcess("af-controller", { systemNamespace: sys, gracePeriodSeconds: 8 }));
  procs.push(startSimulatedAgent("af-agent-a", argsA));
  await c.pools.create(poolObject(ns, "cc", { buffer: 2, hostSelector: { matchLabels: { site } } }));
  // Users log on while only agent A's hosts exist, so their desktops are there.
  for (const u of ["u1", "u2", "u3"]) await c.sessions.create(sessionObject(ns, "cc", u));
  await eventually(
    "sessions Ready on agent A's hosts",
    async () => {
      const list = await c.sessions.list({ namespace: ns });
      return (
        list.length === 3 &&
        list.every((s) => s.status?.phase === "Ready" && hostsA.includes(s.status.hostRef ?? ""))
      );
    },
    90_000,
  );
  procs.push(
    startSimulatedAgent("af-agent-b", {
      systemNamespace: sys,
      hosts: hostsB,
      stateDir: tempStateDir(),
      labels: { site },
    }),
  );
  await eventually("agent B's host Ready", async () => (await ready(hostsB[0] as string)) === "True", 60_000);
});

afterAll(async () => {
  await tearDown(procs, [ns, sys], [...hostsA, ...hostsB]);
});

describe("agent failure", () => {
  it("ends sessions on a dead agent's hosts with a reason, refills elsewhere, and leaks nothing on return", async () => {
    await procs[1]?.kill("SIGKILL");
    for (const h of hostsA)
      await eventually(`${h} NotReady`, async () => (await ready(h)) === "Unknown", 60_000, 500);
    const host = await c.hosts.get({ name: hostsA[0] as string });
    expect(host.status?.conditions?.find((x) => x.type === "Ready")?.reason).toBe("HeartbeatExpired");

    const ended = await eventually(
      "sessions ended",
      async () => {
        const list = await c.sessions.list({ namespace: ns });
        return list.every((s) => s.status?.phase === "Ended") ? list : undefined;
      },
      60_000,
    );
    for (const s of ended) {
      expect(s.status?.endReason).toBe("DesktopFailed");
      expect(s.status?.conditions?.find((x) => x.type === "Ready")?.message).toMatch(
        /not ready|stopped posting heartbeats/,
      );
    }

    await eventually(
      "pool refilled on agent B's host",
      async () => {
        const desktops = (await c.desktops.list({ namespace: ns })).filter(
          (d) => !d.metadata.deletionTimestamp,
        );
        const warm = desktops.filter((d) => d.status?.phase === "Available");
        return warm.length >= 2 && warm.every((d) => hostsB.includes(d.spec.hostRef ?? ""));
      },
      90_000,
    );

    // Agent A comes back over the same host state.
    procs.push(startSimulatedAgent("af-agent-a", argsA));
    for (const h of hostsA)
      await eventually(`${h} Ready again`, async () => (await ready(h)) === "True", 60_000, 500);
    await eventually(
      "no VM of a gone desktop left on agent A's hosts",
      async () => {
        const live = new Set((await c.desktops.list({ namespace: ns })).map((d) => d.metadata.uid));
        const vms = simulatedVmUids(argsA.stateDir);
        const terminating = (await c.desktops.list({ namespace: ns })).filter(
          (d) => d.metadata.deletionTimestamp,
        );
        return terminating.length === 0 && vms.every((uid) => live.has(uid));
      },
      90_000,
      1000,
    );
  });
});
