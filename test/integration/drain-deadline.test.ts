// A drain on the real control plane, with a real controller and simulated agent process:
// 20 users on a host, a 30 s grace period. Every user is told before the deadline (session
// status, an Event, and a message in the guest); idle desktops go at once and the pool refills
// elsewhere; users who log off early end normally; the rest are logged off at the deadline, none
// before it, with reason HostDrained; the host reaches Drained. Then: a withdrawn drain restores
// the host as it was (schedulable, or still cordoned if it had been), and users are told it is
// called off. How fast each step is (notice latency, deadline accuracy) is a figure of
// `make bench-drain`, measured there, not bounded here.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
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
import { createTestNamespace, eventsWhen, eventually, installCrds } from "./support/cluster.js";
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
const site = `dl-${id}`;
const [A, B] = [`dl-${id}-a`, `dl-${id}-b`] as const;
const stateDir = tempStateDir();
const c = clients();
const procs: GriddeskProcess[] = [];
const watches: Informer<DesktopSession>[] = [];
let ns = "";
let sys = "";

/** Lines of kubectl output. */
const count = (out: string) => out.trim().split("\n").filter(Boolean).length;
const live = async () =>
  (await c.sessions.list({ namespace: ns })).filter((s) => !s.metadata.deletionTimestamp);
const fail = (err: unknown) => {
  throw new Error(`${String(err)}\n${procs.map((p) => `${p.name}:\n${p.tail(40)}`).join("\n")}`);
};

/** The last message each VM's guest was shown, by desktop uid (the simulated host's state). */
function guestNotices(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of readdirSync(stateDir).filter((f) => f.endsWith(".json"))) {
    const doc = JSON.parse(readFileSync(path.join(stateDir, file), "utf8")) as {
      vms: { owner?: { uid: string }; lastNotice?: string }[];
    };
    for (const vm of doc.vms) if (vm.owner && vm.lastNotice) out.set(vm.owner.uid, vm.lastNotice);
  }
  return out;
}

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("drain");
  sys = await createTestNamespace("drain-sys");
  procs.push(startControllerProcess("dl-controller", { systemNamespace: sys, gracePeriodSeconds: 20 }));
  procs.push(
    startSimulatedAgent("dl-agent", { systemNamespace: sys, hosts: [A, B], stateDir, labels: { site } }),
  );
  await Promise.all([hostReady(A), hostReady(B)]).catch(fail);
  await roomyHosts([A, B]);
  // Everyone logs on while B is cordoned, so all 20 users are on A; then B takes desktops again.
  await cordon(B).catch(fail);
  await c.pools.create(
    poolObject(ns, "cc", { buffer: 2, max: 40, resources: SMALL, hostSelector: { matchLabels: { site } } }),
  );
  const sessions = await logOn(ns, "cc", users("u", 20)).catch(fail);
  expect(sessions.every((s) => s.status?.hostRef === A)).toBe(true);
  await c.hosts.mergePatch({ name: B }, { spec: { unschedulable: false } });
});

afterAll(async () => {
  await Promise.all(watches.map((w) => w.stop()));
  await tearDown(procs, [ns, sys], [A, B]);
});

describe("drain with a deadline", () => {
  it("notifies all 20 users before the deadline, lets early ones log off, forces the rest at the deadline, ends Drained", async () => {
    const seen = await followSessions(ns);
    watches.push(seen.informer);
    const idle = (await c.desktops.list({ namespace: ns })).filter(
      (d) => d.spec.hostRef === A && !d.spec.sessionRef,
    );
    expect(idle.length).toBeGreaterThan(0);

    await c.hosts.mergePatch({ name: A }, { spec: { drain: drainRequest("30s") } });
    const drain = await eventually(
      "the drain's window in A's status",
      async () => {
        const d = (await c.hosts.get({ name: A })).status?.drain;
        return d?.deadline && d.startedAt ? d : undefined;
      },
      30_000,
    ).catch(fail);
    const deadline = drain.deadline as string;
    expect(Date.parse(deadline) - Date.parse(drain.startedAt as string)).toBe(30_000);
    await eventually("all 20 users notified", async () => seen.notified.size === 20, 30_000, 50).catch(fail);
    // Every user is told before the deadline; how soon is bench:drain's figure (make bench-drain).
    for (const [name, at] of seen.notified)
      expect({ name, beforeDeadline: at < Date.parse(deadline) }).toEqual({ name, beforeDeadline: true });
    for (const s of await live()) {
      expect(s.status?.notice?.deadline).toBe(deadline);
      expect(s.status?.notice?.message).toContain("Host maintenance: please save your work.");
      expect(s.status?.notice?.message).toContain(deadline);
    }

    // Five users log off early, as soon as they are told: they end normally (the session goes,
    // its desktop with it), never with HostDrained.
    const early = users("u", 5);
    await Promise.all(early.map((name) => c.sessions.delete({ namespace: ns, name })));
    await eventsWhen(ns, "reason=DrainNotice", "name", (out) => count(out) >= 20);

    // Idle desktops go at once; the pool refills its buffer on B.
    await eventually("idle desktops deleted", async () => {
      const names = new Set((await c.desktops.list({ namespace: ns })).map((d) => d.metadata.name));
      return idle.every((d) => !names.has(d.metadata.name));
    });
    await eventually("buffer refilled on B", async () => {
      const warm = (await c.desktops.list({ namespace: ns })).filter(
        (d) => d.status?.phase === "Available" && !d.metadata.deletionTimestamp,
      );
      return warm.length >= 2 && warm.every((d) => d.spec.hostRef === B);
    });
    await eventually("early logoffs done", async () => {
      const left = new Set((await c.sessions.list({ namespace: ns })).map((s) => s.metadata.name));
      return early.every((u) => !left.has(u));
    });

    // The reminder at half time reaches the guests of those still logged on, before the deadline.
    await eventually(
      "reminder shown in every remaining guest",
      async () => {
        const shown = guestNotices();
        const desktops = (await c.desktops.list({ namespace: ns })).filter((d) => d.spec.sessionRef);
        return (
          desktops.length === 15 &&
          desktops.every((d) => shown.get(d.metadata.uid ?? "")?.startsWith("Reminder:"))
        );
      },
      Math.max(0, Date.parse(deadline) - Date.now()),
      500,
    ).catch(fail);

    // Everyone still on at the deadline is off after it, and nobody before it.
    await eventually("the rest forced off", async () => seen.ended.size >= 15, 120_000, 100).catch(fail);
    expect(seen.ended.size).toBe(15);
    expectForcedOffAtDeadline(seen, deadline, early);

    const drained = await eventually(
      "host Drained",
      async () => {
        const h = await c.hosts.get({ name: A });
        return condition(h, "Drained")?.status === "True" ? h : undefined;
      },
      30_000,
    ).catch(fail);
    expect(drained.status?.drain).toMatchObject({ phase: "Drained", sessionsLeft: 0, deadline });
    expect(condition(drained, "Schedulable")?.status).toBe("False");
    expect((await c.desktops.list({ namespace: ns })).filter((d) => d.spec.hostRef === A)).toEqual([]);
    await eventsWhen(
      "default",
      `involvedObject.name=${A}`,
      "jsonpath={range .items[*]}{.reason} {end}",
      (out) => ["DrainStarted", "ForcingLogoff", "Drained"].every((reason) => out.includes(reason)),
    );
  });

  it("withdrawing a drain restores the host as it was and tells users it is called off", async () => {
    // A returns to service; then A is cordoned so that new users land on B.
    await c.hosts.mergePatch({ name: A }, { spec: { drain: null } });
    await eventually(
      "A schedulable again",
      async () => condition(await c.hosts.get({ name: A }), "Schedulable")?.status === "True",
    );
    await c.pools.mergePatch(
      { namespace: ns, name: "cc" },
      { spec: { maintenance: { maxUnavailableHosts: 2 } } },
    );
    await cordon(A).catch(fail);
    const team = users("v", 3);
    const sessions = await logOn(ns, "cc", team).catch(fail);
    expect(sessions.every((s) => s.status?.hostRef === B)).toBe(true);

    const mine = async () => (await live()).filter((s) => team.includes(s.metadata.name));
    const abortOn = async (wasCordoned: boolean) => {
      await c.hosts.mergePatch(
        { name: B },
        { spec: { unschedulable: wasCordoned, drain: drainRequest("60s") } },
      );
      await eventually("notices", async () => (await mine()).every((s) => s.status?.notice)).catch(fail);
      await eventually(
        "B Draining=True",
        async () => condition(await c.hosts.get({ name: B }), "Draining")?.status === "True",
      ).catch(fail);
      await c.hosts.mergePatch({ name: B }, { spec: { drain: null } });
      await eventually("notices withdrawn", async () => (await mine()).every((s) => !s.status?.notice)).catch(
        fail,
      );
      const h = await eventually("B restored", async () => {
        const h = await c.hosts.get({ name: B });
        return condition(h, "Draining")?.reason === "DrainAborted" && !h.status?.drain ? h : undefined;
      });
      expect(condition(h, "Schedulable")).toMatchObject(
        wasCordoned
          ? { status: "False", reason: "Cordoned" }
          : { status: "True", reason: "AcceptingDesktops" },
      );
    };
    await abortOn(false);
    await abortOn(true);
    await new Promise((r) => setTimeout(r, 2000));
    expect((await mine()).map((s) => s.status?.phase)).toEqual(["Ready", "Ready", "Ready"]);
    await eventsWhen(ns, "reason=DrainCancelled", "name", (out) => count(out) >= 3);
  });
});
