// A user's profile survives logoff and comes back on another host: two real libvirt hosts (each
// its own libvirtd in its own mount namespace, its own agent process and storage directory), the
// real file server (OpenSSH's SFTP server), a controller, and the test image's guest, which keeps
// a logon counter and a one-line file on its hot-plugged profile disk. The test acts as the user
// through the guest's serial port.
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { DesktopSession } from "../../src/api/types.generated.js";
import { profileName } from "../../src/profiles/naming.js";
import {
  createTestNamespace,
  deleteNamespace,
  eventsWhen,
  eventually,
  installCrds,
} from "./support/cluster.js";
import {
  fileServerRoot,
  killServerConnections,
  uploadUnderWay,
  createStoreSecret,
} from "./support/fileserver.js";
import { clients, startControllerProcess, uniq } from "./support/griddesk.js";
import { guestCommand, readProfile, serialSocket } from "./support/guest.js";
import { stopAll, type GriddeskProcess } from "./support/processes.js";
import { libvirtPool, smallHost, startLibvirtAgent } from "./libvirt-agents.js";
import { drainRequest } from "./drain-support.js";
import {
  libvirtInstanceDown,
  libvirtInstanceUp,
  removeDir,
  storageDir,
  testImage,
} from "./libvirt-support.js";

jest.setTimeout(600_000);

const id = uniq();
const site = `prof-${id}`;
const lvHosts = ["gd-prof-a", "gd-prof-b"].map((instance) => ({
  name: `${instance}-${id}`,
  instance,
  storage: storageDir(instance),
  pid: 0,
}));
const c = clients();
let ns = "";
let sys = "";
const procs: GriddeskProcess[] = [];
const logs = () => procs.map((p) => `--- ${p.name}\n${p.tail(40)}`).join("\n");
const fail = (err: unknown): never => {
  throw new Error(`${String(err)}\n${logs()}`);
};
const env = (name: string): string => process.env[name] as string;
const store = () => ({
  address: `sftp://${env("GRIDDESK_SFTP_HOST")}:${env("GRIDDESK_SFTP_PORT")}`,
  path: fileServerRoot(),
});

beforeAll(async () => {
  const image = testImage();
  for (const h of lvHosts) h.pid = libvirtInstanceUp(h.instance);
  await installCrds();
  ns = await createTestNamespace("prof");
  sys = await createTestNamespace("prof-sys");
  await createStoreSecret(ns, "profile-store");
  for (const h of lvHosts) await c.hosts.create(smallHost(h.name, "libvirt", { site }));
  procs.push(startControllerProcess("prof-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  for (const h of lvHosts)
    procs.push(
      startLibvirtAgent(`prof-agent-${h.instance}`, {
        systemNamespace: sys,
        host: h.name,
        storagePath: h.storage,
        labels: { site },
        nsPid: h.pid,
      }),
    );
  await c.pools.create(
    libvirtPool(ns, "kb", image, {
      buffer: 2,
      max: 4,
      hostSelector: { matchLabels: { site } },
      session: { persistence: "ProfileManaged" },
      profile: {
        store: { ...store(), secretRef: { name: "profile-store" } },
        quota: "256Mi",
        concurrentSession: "ReadOnly",
      },
    }),
  );
  await eventually(
    "two warm desktops",
    async () => (await c.pools.get({ namespace: ns, name: "kb" })).status?.available === 2,
    300_000,
    1000,
  ).catch(fail);
});

afterAll(async () => {
  await c.pools.delete({ namespace: ns, name: "kb" }).catch(() => undefined);
  await eventually(
    "desktops gone",
    async () => (await c.desktops.list({ namespace: ns })).length === 0,
    120_000,
  ).catch(() => undefined);
  await stopAll(procs);
  await deleteNamespace(ns);
  await deleteNamespace(sys);
  for (const h of lvHosts) await c.hosts.delete({ name: h.name }).catch(() => undefined);
  for (const h of lvHosts) {
    libvirtInstanceDown(h.instance);
    removeDir(h.storage);
  }
});

interface Logon {
  session: DesktopSession;
  host: (typeof lvHosts)[number];
  socket: string;
}

/** Logs `user` on as session `name` and waits for Ready and for the guest to see its profile disk. */
async function logon(name: string, user: string, logons: number): Promise<Logon> {
  await c.sessions.create({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopSession",
    metadata: { name, namespace: ns },
    spec: { poolRef: "kb", user },
  });
  const session = await eventually(
    `${name} Ready`,
    async () => {
      const s = await c.sessions.get({ namespace: ns, name });
      return s.status?.phase === "Ready" ? s : undefined;
    },
    180_000,
    500,
  ).catch(fail);
  const host = lvHosts.find((h) => h.name === session.status?.hostRef) as Logon["host"];
  const desktop = await c.desktops.get({ namespace: ns, name: session.status?.desktopRef as string });
  const socket = serialSocket(host.storage, desktop.metadata.uid as string);
  await eventually(
    `${name}'s guest counts logon ${logons} on its profile disk`,
    async () => (await readProfile(socket).catch(() => undefined))?.logons === logons,
    120_000,
    500,
  ).catch(fail);
  return { session, host, socket };
}

async function logoff(name: string): Promise<void> {
  await c.sessions.delete({ namespace: ns, name });
  await eventually(
    `${name} logged off`,
    async () => !(await c.sessions.tryGet({ namespace: ns, name })),
    180_000,
    500,
  ).catch(fail);
}

const write = (socket: string, text: string) =>
  guestCommand(
    socket,
    `griddesk-profile-write ${text}`,
    ["griddesk-profile-written", "griddesk-profile-none"],
    30_000,
  );

describe("profiles on libvirt hosts and the real file server", () => {
  it("a file and a logon counter survive logoff and come back on the other host; a read-only session's changes do not", async () => {
    const user = "alice@example.com";
    const name = profileName(store(), user);

    const first = await logon("alice-1", user, 1);
    expect(first.session.status?.profile).toEqual({ name, mode: "ReadWrite", epoch: 1 });
    expect(await write(first.socket, "hello from the first desktop")).toBe("griddesk-profile-written");
    await logoff("alice-1");
    const saved = await c.profiles.get({ namespace: ns, name });
    expect(saved.spec.lock).toBeUndefined();
    expect(saved.status).toMatchObject({ state: "Idle", versions: 1, head: "v000001-e1.qcow2" });
    expect(saved.status?.lastSyncTime).toBeDefined();
    await eventsWhen(ns, "reason=ProfileSynced", "jsonpath={.items[*].message}", (out) =>
      out.includes("v000001-e1"),
    );

    // The next logon lands on the other host: the first one is drained.
    await c.hosts.mergePatch(
      { name: first.host.name },
      { spec: { unschedulable: true, drain: drainRequest("1h") } },
    );
    await eventually(
      "the first host's drain started",
      async () => (await c.hosts.get({ name: first.host.name })).status?.drain?.startedAt,
    );
    await eventually(
      "a warm desktop on the other host",
      async () =>
        (await c.desktops.list({ namespace: ns })).some(
          (d) => d.spec.hostRef !== first.host.name && d.status?.phase === "Available" && !d.spec.sessionRef,
        ),
      300_000,
      1000,
    ).catch(fail);
    const second = await logon("alice-2", user, 2);
    expect(second.host.name).not.toBe(first.host.name);
    expect(await readProfile(second.socket)).toEqual({ logons: 2, file: "hello from the first desktop" });

    // A concurrent session of the same user gets a read-only copy: it sees the profile, and what
    // it changes is thrown away at its logoff.
    const ro = await logon("alice-ro", user, 2); // its copy of the head (v1) counts its own logon
    expect(ro.session.status?.profile).toEqual({ name, mode: "ReadOnly" });
    expect(await write(ro.socket, "scribbled in a read-only session")).toBe("griddesk-profile-written");
    await logoff("alice-ro");
    expect((await c.profiles.get({ namespace: ns, name })).spec.lock?.session).toBe("alice-2");

    expect(await write(second.socket, "hello again from the second desktop")).toBe(
      "griddesk-profile-written",
    );
    await logoff("alice-2");
    const twice = await c.profiles.get({ namespace: ns, name });
    expect(twice.spec.lock).toBeUndefined();
    expect(twice.status).toMatchObject({ state: "Idle", versions: 2, head: "v000002-e2.qcow2" });

    const third = await logon("alice-3", user, 3);
    expect(await readProfile(third.socket)).toEqual({
      logons: 3,
      file: "hello again from the second desktop",
    });
    await logoff("alice-3");
    await c.hosts.mergePatch({ name: first.host.name }, { spec: { unschedulable: false, drain: null } });
  });

  it("a logoff whose upload is cut keeps the desktop's disk, says so, leaves the head, and succeeds on retry", async () => {
    const user = "bob@example.com";
    const name = profileName(store(), user);
    const bob = await logon("bob-1", user, 1);
    expect(await write(bob.socket, "before the cut")).toBe("griddesk-profile-written");
    await logoff("bob-1");
    const head = (await c.profiles.get({ namespace: ns, name })).status?.head;
    expect(head).toBe("v000001-e1.qcow2");

    const again = await logon("bob-2", user, 2);
    // Enough written that the upload is caught in flight.
    expect(
      await guestCommand(
        again.socket,
        "griddesk-profile-fill 96",
        ["griddesk-profile-filled", "griddesk-profile-none"],
        120_000,
      ),
    ).toBe("griddesk-profile-filled");
    const desktopName = again.session.status?.desktopRef as string;
    await c.sessions.delete({ namespace: ns, name: "bob-2" });
    await uploadUnderWay(path.join(fileServerRoot(), ns, name, "versions"), 4 * 1024 * 1024, 120_000).catch(
      fail,
    );
    // The file server's connections are cut, and cut again for a while: every attempt fails.
    const cutUntil = Date.now() + 8_000;
    while (Date.now() < cutUntil) {
      killServerConnections();
      await new Promise((r) => setTimeout(r, 100));
    }
    const session = await c.sessions.get({ namespace: ns, name: "bob-2" });
    const cond = session.status?.conditions?.find((x) => x.type === "ProfileSynced");
    expect(cond).toMatchObject({ status: "False", reason: "ProfileSyncFailed" });
    const desktop = await c.desktops.get({ namespace: ns, name: desktopName });
    expect(desktop.status?.profile?.attempts).toBeGreaterThanOrEqual(1);
    const disk = path.join(again.host.storage, "profiles", ns, name, "v000002-e2.qcow2");
    expect(existsSync(disk)).toBe(true); // kept until it is safely on the store
    const during = await c.profiles.get({ namespace: ns, name });
    expect(during.status?.head).toBe(head);
    expect(during.spec.lock?.session).toBe("bob-2");
    await eventsWhen(
      ns,
      `involvedObject.name=${desktopName},reason=ProfileSyncFailed`,
      "jsonpath={.items[*].type}",
      (out) => out.includes("Warning"),
    );

    // The cuts stop: the agent's retry publishes it.
    await eventually(
      "bob-2 logged off",
      async () => !(await c.sessions.tryGet({ namespace: ns, name: "bob-2" })),
      180_000,
      500,
    ).catch(fail);
    const after = await c.profiles.get({ namespace: ns, name });
    expect(after.spec.lock).toBeUndefined();
    expect(after.status).toMatchObject({ versions: 2, head: "v000002-e2.qcow2", state: "Idle" });
    const last = await logon("bob-3", user, 3);
    expect((await readProfile(last.socket))?.file).toBe("before the cut");
    await logoff("bob-3");
  });
});
