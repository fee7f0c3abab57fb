// A user's profile survives logoff and comes back on another host: two real libvirt hosts (each
// its own libvirtd in its own mount namespace, its own agent process and storage directory), the
// real file server (OpenSSH's SFTP server), a controller, and the test image's guest, which keeps
// a logon counter and a one-line file on its hot-plugged profile disk. The test acts as the user
// through the guest's serial port.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { DesktopSession } from "../../src/api/types.generated.js";
import { domainName } from "../../src/hypervisors/libvirt/domain-xml.js";
import { profileName } from "../../src/profiles/naming.js";
import { parseBytes } from "../../src/scheduler/quantity.js";
import { runCommand } from "../../src/volumes/command.js";
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
  virsh,
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
        quota: "128Mi",
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
    expect(saved.status).toMatchObject({ quota: "128Mi", restorable: ["v000001-e1.qcow2"] });
    expect(saved.status?.conditions?.find((x) => x.type === "AtQuota")).toMatchObject({
      status: "False",
      reason: "BelowQuota",
    });
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

  it.each([
    {
      who: "erin",
      what: "an external data file",
      options: (file: string) => ["-o", `data_file=${file}.data,data_file_raw=on`],
      refusal: "it keeps its data in an external data file",
    },
    {
      who: "frank",
      what: "a foreign backing file",
      options: (file: string) => ["-u", "-b", `${file}.host-file`, "-F", "raw"],
      refusal: "it names a backing file",
    },
  ])(
    "a version on the store crafted with $what is refused at logon: the reason in the desktop's status and an Event, nothing attached",
    async ({ who, options, refusal }) => {
      const user = `${who}@example.com`;
      const name = profileName(store(), user);
      await logon(`${who}-1`, user, 1);
      await logoff(`${who}-1`);
      // On the file server, v1 is replaced by a crafted image under its name (what it names beside it).
      const v1 = path.join(fileServerRoot(), ns, name, "versions", "v000001-e1.qcow2");
      rmSync(v1);
      await runCommand("qemu-img", ["create", "-q", "-f", "qcow2", ...options(v1), v1, "128M"]);
      // Whichever host the next logon lands on must download v1: the hosts' cached copies go.
      // (Not a cordon: a session created right after one may still bind on the cordoned host
      // before the controller has seen it.) Whatever happens, the session goes at the end.
      for (const h of lvHosts)
        execFileSync("find", [h.storage, "-path", `*/${name}/*`, "-name", "v000001-e1.qcow2", "-delete"]);
      try {
        await c.sessions.create({
          apiVersion: "griddesk.io/v1alpha1",
          kind: "DesktopSession",
          metadata: { name: `${who}-2`, namespace: ns },
          spec: { poolRef: "kb", user },
        });
        const why = `profile version v000001-e1.qcow2 on the store is refused before it was opened: ${refusal}`;
        const desktop = await eventually(
          `${who}-2's desktop says why its profile is not attached`,
          async () => {
            const s = await c.sessions.get({ namespace: ns, name: `${who}-2` });
            if (!s.status?.desktopRef) return undefined;
            const d = await c.desktops.get({ namespace: ns, name: s.status.desktopRef });
            return d.status?.profile?.phase === "Failed" && d.status.profile.message?.includes(why)
              ? d
              : undefined;
          },
          240_000,
          1000,
        ).catch(fail);
        await eventsWhen(
          ns,
          `involvedObject.name=${desktop.metadata.name},reason=ProfileAttachFailed`,
          "jsonpath={.items[*].message}",
          (out) => out.includes(why),
        );
        // Nothing attached: the VM has its system disk only, and the host kept no copy of this user's v1.
        const host = lvHosts.find((h) => h.name === desktop.spec.hostRef) as (typeof lvHosts)[number];
        const disks = virsh(["domblklist", domainName(desktop.metadata.uid as string)], host.pid);
        expect(disks).not.toMatch(/v0000\d\d-e\d\.qcow2/);
        const kept = execFileSync(
          "find",
          [host.storage, "-path", `*/${name}/*`, "-name", "v000001-e1.qcow2*"],
          {
            encoding: "utf8",
          },
        );
        expect(kept).toBe("");
      } finally {
        await logoff(`${who}-2`).catch(() => undefined);
      }
    },
  );

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
    expect(after.status?.conditions?.find((x) => x.type === "AtQuota")?.status).toBe("False");

    // The user fills the profile to its quota (124 MiB of its 128 MiB): the logoff says so.
    const last = await logon("bob-3", user, 3);
    expect((await readProfile(last.socket))?.file).toBe("before the cut");
    expect(
      await guestCommand(
        last.socket,
        "griddesk-profile-fill 124",
        ["griddesk-profile-filled", "griddesk-profile-none"],
        180_000,
      ),
    ).toBe("griddesk-profile-filled");
    await logoff("bob-3");
    const full = await c.profiles.get({ namespace: ns, name });
    expect(full.status?.conditions?.find((x) => x.type === "AtQuota")).toMatchObject({
      status: "True",
      reason: "QuotaReached",
    });
    expect(parseBytes(full.status?.used as string)).toBeGreaterThanOrEqual(124 * 1024 ** 2);
    await eventsWhen(ns, "reason=ProfileAtQuota", "jsonpath={.items[*].message}", (out) =>
      /uses 12\d(\.\d)?Mi of its 128Mi quota/.test(out),
    );
  });

  it("a writer's host that stops heartbeating loses the lock after its grace; back again, its save is refused, never published", async () => {
    const user = "carol@example.com";
    const name = profileName(store(), user);
    const first = await logon("carol-1", user, 1);
    expect(await write(first.socket, "written on the host that froze")).toBe("griddesk-profile-written");
    const agent = procs.find((p) => p.name === `prof-agent-${first.host.instance}`) as GriddeskProcess;
    const desktopName = first.session.status?.desktopRef as string;
    agent.child.kill("SIGSTOP"); // the host's agent freezes: no heartbeats, no save
    try {
      await c.sessions.delete({ namespace: ns, name: "carol-1" });
      // The logoff waits for the save while the host is within its grace period (30 s here).
      await new Promise((r) => setTimeout(r, 10_000));
      expect((await c.profiles.get({ namespace: ns, name })).spec.lock?.session).toBe("carol-1");
      // Past it, the lock is lost and the logoff ends; the desktop waits for its host.
      await eventually(
        "carol-1 logged off without its host",
        async () => !(await c.sessions.tryGet({ namespace: ns, name: "carol-1" })),
        120_000,
        1000,
      ).catch(fail);
      const lost = await c.profiles.get({ namespace: ns, name });
      expect(lost.spec.lock).toBeUndefined();
      expect(lost.spec.epoch).toBe(1);
      await eventsWhen(
        ns,
        `involvedObject.name=${name},reason=LockLost`,
        "jsonpath={.items[*].message}",
        (out) => out.includes(`stays on host ${first.host.name}`),
      );

      // The user logs on again, on the other host, at a newer epoch, and saves there.
      const second = await logon("carol-2", user, 1); // nothing of carol-1 was ever saved
      expect(second.host.name).not.toBe(first.host.name);
      expect(second.session.status?.profile).toEqual({ name, mode: "ReadWrite", epoch: 2 });
      expect(await write(second.socket, "written on the other host")).toBe("griddesk-profile-written");
      await logoff("carol-2");
    } finally {
      agent.child.kill("SIGCONT");
    }
    // The frozen host is back: it finishes carol-1's logoff, and its save is refused by the store.
    await eventsWhen(
      ns,
      `involvedObject.name=${name},reason=StaleSaveRefused`,
      "jsonpath={.items[*].message}",
      (out) => out.includes("epoch 1 is stale, the store knows epoch 2") && out.includes("never published"),
      120_000,
    ).catch(fail);
    await eventually(
      "carol-1's desktop gone",
      async () => !(await c.desktops.tryGet({ namespace: ns, name: desktopName })),
      120_000,
      1000,
    ).catch(fail);
    const after = await c.profiles.get({ namespace: ns, name });
    expect(after.status?.head).toBe("v000001-e2.qcow2");
    const versionsOnStore = readdirSync(path.join(fileServerRoot(), ns, name, "versions"));
    expect(versionsOnStore.filter((f) => f.endsWith(".qcow2"))).toEqual(["v000001-e2.qcow2"]);
    // The refused disk is kept on the host it was written on (the user's changes are in it).
    expect(existsSync(path.join(first.host.storage, "profiles", ns, name, "v000001-e1.qcow2"))).toBe(true);
    const third = await logon("carol-3", user, 2);
    expect((await readProfile(third.socket))?.file).toBe("written on the other host");
    await logoff("carol-3");
  });

  it("with write-back on, a host killed mid-session loses at most one interval", async () => {
    const user = "dave@example.com";
    const name = profileName(store(), user);
    await c.pools.mergePatch(
      { namespace: ns, name: "kb" },
      { spec: { profile: { writeBackInterval: "15s" } } },
    );
    const first = await logon("dave-1", user, 1);
    expect(await write(first.socket, "saved by a write-back")).toBe("griddesk-profile-written");
    const written = Date.now();
    // A write-back after the write publishes it while the session runs.
    const published = await eventually(
      "a write-back after the write",
      async () => {
        const p = await c.profiles.get({ namespace: ns, name });
        const at = Date.parse(p.status?.lastSyncTime ?? "");
        return at >= written + 1000 && p.spec.lock?.session === "dave-1" ? p : undefined;
      },
      90_000,
      1000,
    ).catch(fail);
    const head = published.status?.head as string;
    expect(head).toMatch(/^v00000\d-e1\.qcow2$/);
    await eventsWhen(ns, "reason=ProfileSynced", "jsonpath={.items[*].message}", (out) =>
      out.includes(`written back as ${head}`),
    );
    expect((await readProfile(first.socket))?.file).toBe("saved by a write-back"); // the guest runs on
    expect(await write(first.socket, "written after the last write-back")).toBe("griddesk-profile-written");
    const secondWrite = Date.now();

    // The host dies: its agent and its VM are killed at once.
    const agentName = `prof-agent-${first.host.instance}`;
    const agent = procs.find((p) => p.name === agentName) as GriddeskProcess;
    await agent.kill("SIGKILL");
    procs.splice(procs.indexOf(agent), 1);
    const desktop = await c.desktops.get({ namespace: ns, name: first.session.status?.desktopRef as string });
    virsh(["destroy", domainName(desktop.metadata.uid as string)], first.host.pid);
    // What the last interval published (a write-back may, rarely, have come between the second
    // write and the kill): the next logon must find exactly that.
    const lastSync = Date.parse((await c.profiles.get({ namespace: ns, name })).status?.lastSyncTime ?? "");
    const expected = lastSync > secondWrite ? "written after the last write-back" : "saved by a write-back";
    await c.sessions.delete({ namespace: ns, name: "dave-1" });
    await eventually(
      "dave-1 logged off without its host",
      async () => !(await c.sessions.tryGet({ namespace: ns, name: "dave-1" })),
      120_000,
      1000,
    ).catch(fail);

    // The next logon, on the other host, finds the last write-back: its logon counter and file.
    const second = await logon("dave-2", user, 2);
    expect(second.host.name).not.toBe(first.host.name);
    expect(await readProfile(second.socket)).toEqual({ logons: 2, file: expected });
    await logoff("dave-2");
    await c.pools.mergePatch(
      { namespace: ns, name: "kb" },
      { spec: { profile: { writeBackInterval: null } } },
    );

    // The host comes back: what it held after the last write-back is refused, never published.
    procs.push(
      startLibvirtAgent(agentName, {
        systemNamespace: sys,
        host: first.host.name,
        storagePath: first.host.storage,
        labels: { site },
        nsPid: first.host.pid,
      }),
    );
    await eventsWhen(
      ns,
      `involvedObject.name=${name},reason=StaleSaveRefused`,
      "jsonpath={.items[*].message}",
      (out) => out.includes("epoch 1 is stale, the store knows epoch 2"),
      120_000,
    ).catch(fail);
    const after = await c.profiles.get({ namespace: ns, name });
    expect(after.status?.head).toMatch(/-e2\.qcow2$/);
  });
});
