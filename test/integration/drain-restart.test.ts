// An operator restart mid-drain: the controller is SIGKILLed a few seconds into a 40 s drain,
// users log off while it is down, and a new controller process takes over. The drain keeps its
// recorded start and deadline, reminders continue, the logoffs made during the outage complete
// normally, the rest are forced off at the same deadline (none before it; how soon after is
// bench:drain's figure), and the host reaches Drained.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { DesktopSession } from "../../src/api/types.generated.js";
import type { Informer } from "../../src/runtime/index.js";
import {
  condition,
  drainRequest,
  expectForcedOffAtDeadline,
  followSessions,
  hostReady,
  logOn,
  roomyHosts,
  SMALL,
  users,
  cordon,
} from "./drain-support.js";
import { createTestNamespace, eventually, installCrds } from "./support/cluster.js";
import {
  clients,
  poolObject,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
  tearDown,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(300_000);

const id = uniq();
const site = `restart-${id}`;
const [A, B] = [`restart-${id}-a`, `restart-${id}-b`] as const;
const c = clients();
const procs: GriddeskProcess[] = [];
let watch: Informer<DesktopSession> | undefined;
let ns = "";
let sys = "";
const fail = (err: unknown) => {
  throw new Error(`${String(err)}\n${procs.map((p) => `${p.name}:\n${p.tail(40)}`).join("\n")}`);
};

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("restart");
  sys = await createTestNamespace("restart-sys");
  procs.push(startControllerProcess("rs-controller-1", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  procs.push(
    startSimulatedAgent("rs-agent", {
      systemNamespace: sys,
      hosts: [A, B],
      stateDir: tempStateDir(),
      labels: { site },
    }),
  );
  await Promise.all([hostReady(A), hostReady(B)]).catch(fail);
  await roomyHosts([A, B]);
  await cordon(B).catch(fail);
  await c.pools.create(
    poolObject(ns, "cc", { buffer: 1, max: 20, resources: SMALL, hostSelector: { matchLabels: { site } } }),
  );
  const sessions = await logOn(ns, "cc", users("r", 8)).catch(fail);
  expect(sessions.every((s) => s.status?.hostRef === A)).toBe(true);
  await c.hosts.mergePatch({ name: B }, { spec: { unschedulable: false } });
});

afterAll(async () => {
  await watch?.stop();
  await tearDown(procs, [ns, sys], [A, B]);
});

describe("operator restart mid-drain", () => {
  it("keeps the same deadline and outcome", async () => {
    const seen = await followSessions(ns);
    watch = seen.informer;
    await c.hosts.mergePatch({ name: A }, { spec: { drain: drainRequest("40s") } });
    const before = await eventually(
      "all 8 notified",
      async () => {
        const list = await c.sessions.list({ namespace: ns });
        return list.every((s) => s.status?.notice)
          ? (await c.hosts.get({ name: A })).status?.drain
          : undefined;
      },
      30_000,
      100,
    ).catch(fail);
    const deadline = before.deadline as string;

    await new Promise((r) => setTimeout(r, 3000));
    await procs[0]?.kill("SIGKILL");
    // Two users log off while no controller runs: their logoff waits for one (the finalizer).
    const early = ["r00", "r01"];
    await Promise.all(early.map((name) => c.sessions.delete({ namespace: ns, name })));
    await new Promise((r) => setTimeout(r, 2000));
    expect(seen.ended.size).toBe(0);
    procs.push(startControllerProcess("rs-controller-2", { systemNamespace: sys, gracePeriodSeconds: 30 }));

    await eventually(
      "early logoffs completed by the new controller",
      async () => {
        const names = new Set((await c.sessions.list({ namespace: ns })).map((s) => s.metadata.name));
        return early.every((u) => !names.has(u));
      },
      60_000,
    ).catch(fail);
    const during = (await c.hosts.get({ name: A })).status?.drain;
    expect(during?.startedAt).toBe(before.startedAt);
    expect(during?.deadline).toBe(deadline);
    await eventually(
      "the half-time reminder, sent by the new controller",
      async () =>
        (await c.sessions.list({ namespace: ns })).every((s) =>
          s.status?.notice?.message.startsWith("Reminder:"),
        ),
      Date.parse(deadline) - Date.now(),
      200,
    ).catch(fail);

    await eventually(
      "the rest forced off",
      async () => seen.ended.size >= 6,
      Math.max(0, Date.parse(deadline) - Date.now()) + 120_000,
      100,
    ).catch(fail);
    expect(seen.ended.size).toBe(6);
    expectForcedOffAtDeadline(seen, deadline, early);
    const drained = await eventually(
      "Drained",
      async () => {
        const h = await c.hosts.get({ name: A });
        return condition(h, "Drained")?.status === "True" ? h : undefined;
      },
      30_000,
    ).catch(fail);
    expect(drained.status?.drain).toMatchObject({ startedAt: before.startedAt, deadline, phase: "Drained" });
  });
});
