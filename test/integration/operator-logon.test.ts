// End to end on the real API server with a real controller and simulated agent process:
// logon → Ready with an endpoint; logoff → desktop destroyed and buffer refilled; a pool that
// no host can serve → a condition and an Event that say why, and the operator keeps running.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { createTestNamespace, eventsWhen, eventually, installCrds, mustKubectl } from "./support/cluster.js";
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
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(180_000);

const id = uniq();
const site = `logon-${id}`;
const hosts = [`logon-${id}-a`, `logon-${id}-b`];
const c = clients();
let ns = "";
let sys = "";
let controller: GriddeskProcess | undefined;
let agent: GriddeskProcess | undefined;

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("logon");
  sys = await createTestNamespace("logon-sys");
  controller = startControllerProcess("controller", { systemNamespace: sys });
  agent = startSimulatedAgent("logon-agent", {
    systemNamespace: sys,
    hosts,
    stateDir: tempStateDir(),
    labels: { site },
  });
  await c.pools.create(poolObject(ns, "cc", { buffer: 2, max: 10, hostSelector: { matchLabels: { site } } }));
  await eventually(
    "pool buffer filled",
    async () => (await c.pools.get({ namespace: ns, name: "cc" })).status?.available === 2,
    90_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\ncontroller:\n${controller?.tail()}\nagent:\n${agent?.tail()}`);
  });
});

afterAll(async () => {
  await tearDown([controller, agent], [ns, sys], hosts);
});

describe("logon and logoff", () => {
  it("binds a warm desktop, publishes its endpoint, and on logoff destroys it and refills", async () => {
    await c.sessions.create(sessionObject(ns, "cc", "alice"));
    const ready = await eventually("session Ready", async () => {
      const s = await c.sessions.get({ namespace: ns, name: "alice" });
      return s.status?.phase === "Ready" ? s : undefined;
    });
    expect(ready.status?.endpoint?.port).toBeGreaterThan(0);
    expect(hosts).toContain(ready.status?.hostRef);
    const desktopName = ready.status?.desktopRef as string;
    const desktop = await c.desktops.get({ namespace: ns, name: desktopName });
    expect(desktop.spec.sessionRef?.uid).toBe(ready.metadata.uid);
    // The agent reports InUse once it sees the binding, which may be just after the session is Ready.
    await eventually(
      "the bound desktop InUse",
      async () => (await c.desktops.get({ namespace: ns, name: desktopName })).status?.phase === "InUse",
      30_000,
    );

    await eventsWhen(ns, "involvedObject.name=alice", "name", (out) => out.trim() !== "");

    await c.sessions.delete({ namespace: ns, name: "alice" });
    await eventually(
      "session gone",
      async () => !(await c.sessions.tryGet({ namespace: ns, name: "alice" })),
    );
    await eventually(
      "desktop destroyed",
      async () => !(await c.desktops.tryGet({ namespace: ns, name: desktopName })),
    );
    await eventually("buffer refilled", async () => {
      const p = await c.pools.get({ namespace: ns, name: "cc" });
      return p.status?.available === 2 && p.status.inUse === 0;
    });
  });

  it("serves a ProfileManaged pool on simulated hosts, which pretend to sync each user's profile", async () => {
    await c.pools.create(
      poolObject(ns, "kb", {
        buffer: 1,
        hostSelector: { matchLabels: { site } },
        session: { persistence: "ProfileManaged" },
        profile: {
          store: { address: "sftp://files.example.com", path: "/profiles", secretRef: { name: "store" } },
          quota: "1Gi",
        },
      }),
    );
    await eventually(
      "the ProfileManaged pool's buffer filled",
      async () => (await c.pools.get({ namespace: ns, name: "kb" })).status?.available === 1,
    );
    await c.sessions.create(sessionObject(ns, "kb", "carol"));
    const ready = await eventually("carol Ready", async () => {
      const s = await c.sessions.get({ namespace: ns, name: "carol" });
      return s.status?.phase === "Ready" ? s : undefined;
    });
    const profile = ready.status?.profile?.name as string;
    expect(ready.status?.conditions?.find((x) => x.type === "ProfileSynced")).toMatchObject({
      status: "True",
      reason: "ProfileAttached",
    });
    await c.sessions.delete({ namespace: ns, name: "carol" });
    const saved = await eventually("carol's profile saved and free", async () => {
      const p = await c.profiles.get({ namespace: ns, name: profile });
      return !p.spec.lock && p.status?.state === "Idle" ? p : undefined;
    });
    expect(saved.status).toMatchObject({ versions: 1, head: "v000001-e1.qcow2" });
    expect(saved.status?.lastSyncTime).toBeDefined();
    // A pool says nothing about profiles in its own conditions: each DesktopProfile does.
    const kb = await c.pools.get({ namespace: ns, name: "kb" });
    expect(kb.status?.conditions?.map((x) => x.type)).not.toContain("ProfilesSynced");
  });

  it("reports why a pool cannot be served, and keeps running", async () => {
    await c.pools.create(
      poolObject(ns, "nowhere", { buffer: 1, hostSelector: { matchLabels: { site: "atlantis" } } }),
    );
    const cond = await eventually("NoEligibleHosts condition", async () => {
      const p = await c.pools.get({ namespace: ns, name: "nowhere" });
      return p.status?.conditions?.find((x) => x.type === "HostsAvailable" && x.status === "False");
    });
    expect(cond.reason).toBe("NoEligibleHosts");
    expect(cond.message).toContain("atlantis");
    await eventually("NoEligibleHosts event", async () =>
      (
        await mustKubectl([
          "get",
          "events",
          "-n",
          ns,
          "--field-selector",
          "reason=NoEligibleHosts",
          "-o",
          "name",
        ])
      ).trim(),
    );
    // A session for it waits with a reason instead of failing.
    await c.sessions.create(sessionObject(ns, "nowhere", "bob"));
    await eventually("bob waits for a desktop", async () => {
      const s = await c.sessions.get({ namespace: ns, name: "bob" });
      return s.status?.conditions?.some((x) => x.type === "Bound" && x.reason === "WaitingForDesktop");
    });
    // The controller still serves the good pool.
    expect(controller?.child.exitCode).toBeNull();
    await c.sessions.create(sessionObject(ns, "cc", "carol"));
    await eventually(
      "carol Ready",
      async () => (await c.sessions.get({ namespace: ns, name: "carol" })).status?.phase === "Ready",
    );
  });
});
