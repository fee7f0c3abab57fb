// What an admin does with a user's profile, on the real API server, a real controller process
// and the real file server: restore an earlier version (it becomes head under a new epoch; the
// later versions stay; refused while the user is logged on) and erase a profile by deleting it
// (the user's data leaves the store; waits while a session holds the lock). The versions are
// made by the data path's own check-out and check-in, the test acting as the agent.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { DesktopProfile } from "../../src/api/types.generated.js";
import { checkIn, checkOut, type CheckInOptions } from "../../src/profiles/checkout.js";
import { compactedName, versionName } from "../../src/profiles/versions.js";
import { ProfileFence } from "../../src/profiles/fence.js";
import { SftpStore } from "../../src/profiles/sftp-store.js";
import { runCommand } from "../../src/volumes/command.js";
import { createTestNamespace, eventsWhen, eventually, installCrds, kubectl } from "./support/cluster.js";
import { fileServerConfig, fileServerRoot, createStoreSecret } from "./support/fileserver.js";
import { clients, startControllerProcess, tearDown, uniq } from "./support/griddesk.js";
import type { GriddeskProcess } from "./support/processes.js";

jest.setTimeout(180_000);

const c = clients();
const local = mkdtempSync(path.join(tmpdir(), "gd-profile-admin-"));
const env = (name: string): string => process.env[name] as string;
let ns = "";
let sys = "";
let controller: GriddeskProcess | undefined;
let store: SftpStore;

const storeRef = () => ({
  address: `sftp://${env("GRIDDESK_SFTP_HOST")}:${env("GRIDDESK_SFTP_PORT")}`,
  path: fileServerRoot(),
  secretRef: { name: "profile-store" },
});
const onServer = (name: string, ...rest: string[]) => path.join(fileServerRoot(), ns, name, ...rest);

/** A profile object as the session controller makes it, with `versions` published by "sessions". */
async function profileWithVersions(
  name: string,
  versions: number,
  opts: CheckInOptions = {},
): Promise<DesktopProfile> {
  await c.profiles.create({
    apiVersion: "griddesk.io/v1alpha1",
    kind: "DesktopProfile",
    metadata: { name, namespace: ns },
    spec: { user: `${name}@example.com`, store: storeRef() },
  });
  for (let epoch = 1; epoch <= versions; epoch++) {
    await c.profiles.mergePatch({ namespace: ns, name }, { spec: { epoch } });
    const out = await checkOut({
      store,
      profileDir: `${ns}/${name}`,
      localDir: path.join(local, name),
      mode: "ReadWrite",
      epoch,
      owner: `desk-${epoch}`,
      sizeBytes: 64 * 1024 ** 2,
    });
    await runCommand("qemu-io", ["-f", "qcow2", "-c", `write -P ${epoch} 0 64k`, out.disk]);
    await checkIn(store, `${ns}/${name}`, out, opts);
  }
  return c.profiles.get({ namespace: ns, name });
}

const lock = (epoch: number) => ({ session: "someone-1", sessionUID: "uid-1", epoch });

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("padmin");
  sys = await createTestNamespace("padmin-sys");
  await createStoreSecret(ns, "profile-store");
  store = await SftpStore.connect(fileServerConfig());
  controller = startControllerProcess("padmin-controller", { systemNamespace: sys });
});

afterAll(async () => {
  store?.close();
  await tearDown([controller], [ns, sys], []);
  rmSync(local, { recursive: true, force: true });
  if (ns) rmSync(path.join(fileServerRoot(), ns), { recursive: true, force: true });
});

describe("restore", () => {
  it("makes an earlier version head again under a new epoch, keeping the later ones", async () => {
    const name = `restore-${uniq()}`;
    await profileWithVersions(name, 2);
    const fence = new ProfileFence(store, `${ns}/${name}`);
    expect((await fence.readHead()).head.chain).toEqual([versionName(1, 1), versionName(2, 2)]);

    // Not while someone is logged on: the API refuses it, naming why.
    await c.profiles.mergePatch({ namespace: ns, name }, { spec: { epoch: 3, lock: lock(3) } });
    const refused = await kubectl([
      "patch",
      "desktopprofile",
      name,
      "-n",
      ns,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { restore: { version: versionName(1, 1) } } }),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(
      "spec.restore cannot be set while a session holds the profile's write lock",
    );
    await c.profiles.mergePatch({ namespace: ns, name }, { spec: { lock: null } });

    await c.profiles.mergePatch(
      { namespace: ns, name },
      { spec: { restore: { version: versionName(1, 1) } } },
    );
    const restored = await eventually("the restore done", async () => {
      const p = await c.profiles.get({ namespace: ns, name });
      return !p.spec.restore && p.status?.head === versionName(1, 1) ? p : undefined;
    });
    expect(restored.spec.epoch).toBe(4); // a new epoch: no older writer can publish after it
    expect(await fence.readHead()).toEqual({ epoch: 4, head: { chain: [versionName(1, 1)] } });
    expect(existsSync(onServer(name, "versions", versionName(2, 2)))).toBe(true); // history kept
    await eventsWhen(
      ns,
      `involvedObject.name=${name},reason=Restored`,
      "jsonpath={.items[*].message}",
      (out) => out.includes(`${versionName(1, 1)} is head again (was ${versionName(2, 2)})`),
    );
    // What the next session gets is version 1's data.
    const next = await checkOut({
      store,
      profileDir: `${ns}/${name}`,
      localDir: path.join(local, "reader"),
      mode: "ReadOnly",
      owner: "reader",
      sizeBytes: 64 * 1024 ** 2,
    });
    await runCommand("qemu-io", ["-f", "qcow2", "-c", "read -P 1 0 64k", next.disk]); // fails on another pattern
  });

  it("restores a version compacted away, from the chain its own header names", async () => {
    const name = `restore-compacted-${uniq()}`;
    await profileWithVersions(name, 3, { compactAfter: 2, retain: 3 });
    const fence = new ProfileFence(store, `${ns}/${name}`);
    expect((await fence.readHead()).head.chain).toEqual([compactedName(3, 3)]);
    await c.profiles.mergePatch(
      { namespace: ns, name },
      { spec: { restore: { version: versionName(2, 2) } } },
    );
    await eventually("the restore done", async () => {
      const p = await c.profiles.get({ namespace: ns, name });
      return !p.spec.restore && p.status?.head === versionName(2, 2);
    });
    expect((await fence.readHead()).head.chain).toEqual([versionName(1, 1), versionName(2, 2)]);
    const next = await checkOut({
      store,
      profileDir: `${ns}/${name}`,
      localDir: path.join(local, "compacted-reader"),
      mode: "ReadOnly",
      owner: "reader",
      sizeBytes: 64 * 1024 ** 2,
    });
    await runCommand("qemu-io", ["-f", "qcow2", "-c", "read -P 2 0 64k", next.disk]); // fails on another pattern
  });

  it("refuses a version that is not in the profile's chain, and leaves the head", async () => {
    const name = `restore-bad-${uniq()}`;
    await profileWithVersions(name, 1);
    await c.profiles.mergePatch(
      { namespace: ns, name },
      { spec: { restore: { version: versionName(7, 9) } } },
    );
    await eventsWhen(
      ns,
      `involvedObject.name=${name},reason=RestoreRefused`,
      "jsonpath={.items[*].type}",
      (out) => out.includes("Warning"),
    );
    await eventually(
      "the request cleared",
      async () => !(await c.profiles.get({ namespace: ns, name })).spec.restore,
    );
    expect((await new ProfileFence(store, `${ns}/${name}`).readHead()).head.chain).toEqual([
      versionName(1, 1),
    ]);
  });
});

describe("erase", () => {
  it("erases the user's data from the store when the profile is deleted, waiting for a logged-on user", async () => {
    const name = `erase-${uniq()}`;
    await profileWithVersions(name, 1);
    await eventually("the erase finalizer", async () =>
      (await c.profiles.get({ namespace: ns, name })).metadata.finalizers?.includes(
        "griddesk.io/profile-erase",
      ),
    );
    await c.profiles.mergePatch({ namespace: ns, name }, { spec: { epoch: 2, lock: lock(2) } });
    await c.profiles.delete({ namespace: ns, name });
    await eventsWhen(
      ns,
      `involvedObject.name=${name},reason=EraseWaiting`,
      "jsonpath={.items[*].message}",
      (out) => out.includes("once session someone-1 logs off"),
    );
    expect(existsSync(onServer(name, "versions", versionName(1, 1)))).toBe(true);
    expect(await c.profiles.tryGet({ namespace: ns, name })).toBeDefined();

    await c.profiles.mergePatch({ namespace: ns, name }, { spec: { lock: null } }); // the user logs off
    await eventually("the profile gone", async () => !(await c.profiles.tryGet({ namespace: ns, name })));
    expect(existsSync(onServer(name))).toBe(false);
  });
});
