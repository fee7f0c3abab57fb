// One writer per user profile, on the real API server with a real controller and a simulated
// agent process: a logon to a ProfileManaged pool creates the user's DesktopProfile and takes its
// write lock at a new epoch; a second concurrent logon gets the pool's policy (refused with a
// reason, or a read-only profile); the logoff releases the lock; a lock whose holder vanished
// without releasing it is taken over at a newer epoch. (The profile's data is not copied yet:
// issue 21, milestone 3.)
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { DesktopProfile, DesktopSession } from "../../src/api/types.generated.js";
import { profileName } from "../../src/profiles/naming.js";
import { createTestNamespace, eventsWhen, eventually, installCrds, mustKubectl } from "./support/cluster.js";
import {
  clients,
  poolObject,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  tearDown,
  uniq,
} from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(180_000);

const id = uniq();
const site = `plock-${id}`;
const hosts = [`plock-${id}-a`, `plock-${id}-b`];
const store = { address: "sftp://files.example.com:2222", path: "/profiles" };
const c = clients();
let ns = "";
let sys = "";
let controller: GriddeskProcess | undefined;
let agent: GriddeskProcess | undefined;

function profiledPool(name: string, concurrentSession: "Refuse" | "ReadOnly") {
  return poolObject(ns, name, {
    buffer: 2,
    max: 10,
    hostSelector: { matchLabels: { site } },
    session: { persistence: "ProfileManaged" },
    profile: { store: { ...store, secretRef: { name: "profile-store" } }, quota: "1Gi", concurrentSession },
  });
}

function logon(name: string, pool: string, user: string): Promise<DesktopSession> {
  return c.sessions.create({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopSession",
    metadata: { name, namespace: ns },
    spec: { poolRef: pool, user },
  });
}

async function logoff(name: string): Promise<void> {
  await c.sessions.delete({ namespace: ns, name });
  await eventually(`session ${name} gone`, async () => !(await c.sessions.tryGet({ namespace: ns, name })));
}

function whenSession(name: string, phase: string): Promise<DesktopSession> {
  return eventually(`session ${name} ${phase}`, async () => {
    const s = await c.sessions.get({ namespace: ns, name });
    return s.status?.phase === phase ? s : undefined;
  });
}

function whenProfile(
  user: string,
  what: string,
  check: (p: DesktopProfile) => boolean,
): Promise<DesktopProfile> {
  return eventually(`${user}'s profile: ${what}`, async () => {
    const p = await c.profiles.tryGet({ namespace: ns, name: profileName(store, user) });
    return p && check(p) ? p : undefined;
  });
}

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("plock");
  sys = await createTestNamespace("plock-sys");
  controller = startControllerProcess("controller", { systemNamespace: sys });
  agent = startSimulatedAgent("plock-agent", {
    systemNamespace: sys,
    hosts,
    stateDir: tempStateDir(),
    labels: { site },
  });
  await c.pools.create(profiledPool("refuse", "Refuse"));
  await c.pools.create(profiledPool("readonly", "ReadOnly"));
  await eventually(
    "both pools' buffers filled",
    async () => {
      const [a, b] = await Promise.all(
        ["refuse", "readonly"].map((name) => c.pools.get({ namespace: ns, name })),
      );
      return a?.status?.available === 2 && b?.status?.available === 2;
    },
    90_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\ncontroller:\n${controller?.tail()}\nagent:\n${agent?.tail()}`);
  });
});

afterAll(async () => {
  await tearDown([controller, agent], [ns, sys], hosts);
});

describe("one writer per user profile", () => {
  it("locks the profile for the first session, refuses a second, and frees it at logoff", async () => {
    const user = "Alice.Smith@example.com";
    const first = await logon("alice-1", "refuse", user);
    const ready = await whenSession("alice-1", "Ready");
    const name = profileName(store, user);
    expect(ready.status?.profile).toEqual({ name, mode: "ReadWrite", epoch: 1 });
    const locked = await whenProfile(user, "InUse", (p) => p.status?.state === "InUse");
    expect(locked.spec).toMatchObject({
      user,
      store,
      epoch: 1,
      lock: { session: "alice-1", sessionUID: first.metadata.uid, pool: "refuse", epoch: 1 },
    });
    expect(locked.metadata.labels?.["griddesk.io/user"]).toBe("Alice.Smith_at_example.com");
    // kubectl shows it as a control room: user, store, state and the session holding the lock.
    const table = await mustKubectl(["get", "desktopprofiles", "-n", ns, "--no-headers"]);
    expect(table).toMatch(
      new RegExp(`${name}\\s+${user}\\s+sftp://files.example.com:2222\\s+InUse\\s+alice-1`),
    );

    // A second logon of the same user while the first holds the profile: refused with a reason.
    await logon("alice-2", "refuse", user);
    const refused = await whenSession("alice-2", "Ended");
    expect(refused.status?.endReason).toBe("ProfileInUse");
    expect(refused.status?.desktopRef).toBeUndefined(); // refused before a desktop was taken
    const ready2 = refused.status?.conditions?.find((x) => x.type === "Ready");
    expect(ready2?.message).toContain("in use by session alice-1");
    await eventsWhen(
      ns,
      "involvedObject.name=alice-2,reason=ProfileInUse",
      "jsonpath={.items[*].type}",
      (out) => out.includes("Warning"),
    );
    expect((await c.profiles.get({ namespace: ns, name })).spec.lock?.session).toBe("alice-1");
    await logoff("alice-2"); // its logoff leaves the holder's lock alone
    expect((await c.profiles.get({ namespace: ns, name })).spec.lock?.session).toBe("alice-1");

    await logoff("alice-1");
    const free = await whenProfile(user, "free and Idle", (p) => !p.spec.lock && p.status?.state === "Idle");
    expect(free.spec.epoch).toBe(1);
    await eventsWhen(ns, `involvedObject.name=${name},reason=Released`, "name", (out) => out.trim() !== "");

    // The next logon takes the lock at the next epoch.
    await logon("alice-3", "refuse", user);
    expect((await whenSession("alice-3", "Ready")).status?.profile).toEqual({
      name,
      mode: "ReadWrite",
      epoch: 2,
    });
    await logoff("alice-3");
    await whenProfile(user, "free again at epoch 2", (p) => !p.spec.lock && p.spec.epoch === 2);
  });

  it("gives a second session a read-only profile under the ReadOnly policy", async () => {
    const user = "bob@example.com";
    await logon("bob-1", "readonly", user);
    await whenSession("bob-1", "Ready");
    await logon("bob-2", "readonly", user);
    const second = await whenSession("bob-2", "Ready");
    expect(second.status?.profile).toEqual({ name: profileName(store, user), mode: "ReadOnly" });
    await logoff("bob-2");
    const held = await c.profiles.get({ namespace: ns, name: profileName(store, user) });
    expect(held.spec.lock?.session).toBe("bob-1");
    await logoff("bob-1");
    await whenProfile(user, "free", (p) => !p.spec.lock && p.status?.state === "Idle");
  });

  it("takes over, at a newer epoch, a lock whose session vanished without releasing it", async () => {
    const user = "carol@example.com";
    await logon("carol-1", "refuse", user);
    await whenSession("carol-1", "Ready");
    await whenProfile(user, "locked by carol-1", (p) => p.spec.lock?.session === "carol-1");
    // While the controller is down, someone deletes the session and removes its finalizer by
    // hand: it goes without its logoff, and its lock is never released.
    await controller?.kill("SIGKILL");
    await mustKubectl(["delete", "desktopsession", "carol-1", "-n", ns, "--wait=false"]);
    await mustKubectl([
      "patch",
      "desktopsession",
      "carol-1",
      "-n",
      ns,
      "--type=merge",
      "-p",
      '{"metadata":{"finalizers":null}}',
    ]);
    await eventually(
      "carol-1 gone",
      async () => !(await c.sessions.tryGet({ namespace: ns, name: "carol-1" })),
    );
    expect((await c.profiles.get({ namespace: ns, name: profileName(store, user) })).spec.lock?.session).toBe(
      "carol-1",
    );
    controller = startControllerProcess("controller-again", { systemNamespace: sys });

    await logon("carol-2", "refuse", user);
    expect((await whenSession("carol-2", "Ready")).status?.profile?.epoch).toBe(2);
    const taken = await whenProfile(user, "locked by carol-2", (p) => p.spec.lock?.session === "carol-2");
    expect(taken.spec.epoch).toBe(2);
    await eventsWhen(
      ns,
      `involvedObject.name=${profileName(store, user)},reason=LockTakenOver`,
      "jsonpath={.items[*].type}",
      (out) => out.includes("Warning"),
    );
    await logoff("carol-2");
  });
});
