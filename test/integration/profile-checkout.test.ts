// A profile's data path between two hosts and the real file server (OpenSSH's SFTP server),
// with real qemu-img disks: check-out on host A (an empty disk at a first logon), writes,
// check-in; check-out on host B over the published head (only the versions B lacks are
// fetched), writes, check-in; a read-only check-out sees both; a check-in from a stale epoch is
// refused and the head stays; a check-in whose connection is killed mid-upload fails, leaves the
// head as it was and the disk in place, and succeeds when retried.
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { checkedOut, checkIn, checkOut, release } from "../../src/profiles/checkout.js";
import { chainOnStore, compactedName, versionName } from "../../src/profiles/versions.js";
import { ProfileFence, StaleEpochError } from "../../src/profiles/fence.js";
import { SftpStore, StoreError } from "../../src/profiles/sftp-store.js";
import { runCommand } from "../../src/volumes/command.js";
import {
  fileServerConfig,
  fileServerRoot,
  killServerConnections,
  uploadUnderWay,
} from "./support/fileserver.js";
import { uniq } from "./support/griddesk.js";

jest.setTimeout(180_000);

const profile = `checkout-test-${uniq()}`;
const local = mkdtempSync(path.join(tmpdir(), "gd-checkout-"));
const hostA = path.join(local, "host-a", profile);
const hostB = path.join(local, "host-b", profile);
const SIZE = 1024 ** 3; // the quota: the disk's virtual size
const stores: SftpStore[] = [];

async function connect(): Promise<SftpStore> {
  const store = await SftpStore.connect(fileServerConfig());
  stores.push(store);
  return store;
}

/** qemu-io on a disk: writes or checks a byte pattern (it fails when the pattern is not there). */
const qemuIo = (disk: string, cmd: string) => runCommand("qemu-io", ["-f", "qcow2", "-c", cmd, disk]);
const write = (disk: string, pattern: number, offset: string, length: string) =>
  qemuIo(disk, `write -P ${pattern} ${offset} ${length}`);
async function holds(disk: string, pattern: number, offset: string, length: string): Promise<boolean> {
  const out = await qemuIo(disk, `read -P ${pattern} ${offset} ${length}`).catch((err: Error) => err.message);
  return !/Pattern verification failed|failed/i.test(out);
}

/** A check-out on host `localDir` for desk `owner`: writable at `epoch`, else read-only. */
const take = (store: SftpStore, localDir: string, owner: string, epoch?: number, profileDir = profile) =>
  checkOut({
    store,
    profileDir,
    localDir,
    mode: epoch === undefined ? "ReadOnly" : "ReadWrite",
    ...(epoch === undefined ? {} : { epoch }),
    owner,
    sizeBytes: SIZE,
  });

const settled = (p: Promise<unknown>) =>
  p.then(
    () => "resolved" as const,
    (err: unknown) => err,
  );

beforeAll(() => {
  fileServerConfig(); // fails here when the file server is not there
});

afterAll(() => {
  for (const s of stores) s.close();
  rmSync(local, { recursive: true, force: true });
  rmSync(path.join(fileServerRoot(), profile), { recursive: true, force: true });
  rmSync(path.join(fileServerRoot(), `${profile}-compact`), { recursive: true, force: true });
  rmSync(path.join(fileServerRoot(), `${profile}-retain`), { recursive: true, force: true });
});

describe("a profile's disk between two hosts and the file server", () => {
  it("round-trips through the store, fetches only what a host lacks, and fences a stale writer", async () => {
    const store = await connect();
    const fence = new ProfileFence(store, profile);

    // Host A, first logon (epoch 1): an empty disk of the quota's size.
    const a1 = await take(store, hostA, "desk-a1", 1);
    expect(a1.base.chain).toEqual([]);
    expect(path.basename(a1.disk)).toBe(versionName(1, 1));
    const info = JSON.parse(await runCommand("qemu-img", ["info", "--output=json", a1.disk])) as Record<
      string,
      unknown
    >;
    expect(info["virtual-size"]).toBe(SIZE);
    expect(info["backing-filename"]).toBeUndefined();
    await write(a1.disk, 0x41, "0", "64k");
    // Checking out again (an agent restart) gives the same disk, with what was written.
    expect(await take(store, hostA, "desk-a1", 1)).toEqual(a1);
    expect(await holds(a1.disk, 0x41, "0", "64k")).toBe(true);
    const in1 = await checkIn(store, profile, a1);
    expect(in1.head.chain).toEqual([versionName(1, 1)]);
    await release(hostA, "desk-a1", a1);
    expect(await checkedOut(hostA, "desk-a1")).toBeUndefined();
    expect(existsSync(a1.disk)).toBe(true); // kept: the cached copy of v1

    // Host B, the next logon (epoch 2): v1 fetched, an overlay over it.
    const b2 = await take(store, hostB, "desk-b2", 2);
    expect(b2.base.chain).toEqual([versionName(1, 1)]);
    expect(readdirSync(hostB).sort()).toEqual(["disk-desk-b2.json", versionName(1, 1), versionName(2, 2)]);
    expect(await holds(b2.disk, 0x41, "0", "64k")).toBe(true);
    await write(b2.disk, 0x42, "1M", "64k");
    const in2 = await checkIn(store, profile, b2);
    expect(in2.head.chain).toEqual([versionName(1, 1), versionName(2, 2)]);
    expect((await fence.readHead()).head).toEqual(in2.head);

    // Host A again, read-only: only v2 is fetched (v1 is cached); both writes are there.
    const before = statSync(path.join(hostA, versionName(1, 1))).mtimeMs;
    const ro = await take(store, hostA, "desk-ro");
    expect(statSync(path.join(hostA, versionName(1, 1))).mtimeMs).toBe(before);
    expect(await holds(ro.disk, 0x41, "0", "64k")).toBe(true);
    expect(await holds(ro.disk, 0x42, "1M", "64k")).toBe(true);
    await expect(checkIn(store, profile, ro)).rejects.toThrow("not a writable check-out");
    await release(hostA, "desk-ro", ro);
    expect(existsSync(ro.disk)).toBe(false); // a read-only disk's changes are thrown away

    // A zombie writer of epoch 1 (host A's old lock) with another increment: refused, head unchanged.
    const zombie = await take(store, path.join(local, "zombie"), "z");
    const stale = settled(
      checkIn(store, profile, { ...zombie, mode: "ReadWrite", epoch: 1, version: versionName(3, 1) }),
    );
    expect(await stale).toBeInstanceOf(StaleEpochError);
    expect((await fence.readHead()).head).toEqual(in2.head);
    // So is a writer that claims an epoch the store has passed.
    expect(await settled(take(store, hostA, "desk-late", 1))).toBeInstanceOf(StaleEpochError);
  });

  it.each([
    [
      "an external data file",
      (f: string) => ["-o", `data_file=${f}.data,data_file_raw=on`],
      /external data file/,
    ],
    [
      "a foreign backing name",
      (f: string) => ["-u", "-b", `${f}.host-file`, "-F", "raw"],
      /names the backing file ".*\.host-file", not "v000001-e1\.qcow2"/,
    ],
  ])(
    "a version on the store with %s is refused before qemu-img opens it; the host keeps nothing",
    async (_what, options, why) => {
      const dir = `${profile}-crafted-${uniq()}`;
      const store = await connect();
      // A real profile of two versions, made by host A...
      const a1 = await take(store, path.join(local, dir, "a"), "desk-a1", 1, dir);
      await checkIn(store, dir, a1);
      const a2 = await take(store, path.join(local, dir, "a"), "desk-a2", 2, dir);
      const published = await checkIn(store, dir, a2);
      // ...then v2 on the file server replaced by a crafted image under its name.
      const onStore = path.join(fileServerRoot(), dir, "versions", versionName(2, 2));
      rmSync(onStore);
      await runCommand("qemu-img", [
        "create",
        "-q",
        "-f",
        "qcow2",
        ...options(onStore),
        onStore,
        String(SIZE),
      ]);
      // Host B's logon: v1 is fetched and kept, the crafted v2 is refused and not kept.
      const hostC = path.join(local, dir, "c");
      const refused = await settled(take(store, hostC, "desk-c3", 3, dir));
      expect(published.head.chain).toEqual([versionName(1, 1), versionName(2, 2)]);
      expect(refused).toBeInstanceOf(Error);
      expect((refused as Error).message).toMatch(
        new RegExp(`^profile version ${versionName(2, 2)} on the store is refused before it was opened: `),
      );
      expect((refused as Error).message).toMatch(why);
      expect(readdirSync(hostC).sort()).toEqual([versionName(1, 1)]);
      rmSync(path.join(fileServerRoot(), dir), { recursive: true, force: true });
    },
  );

  it("a check-in whose connection is killed mid-upload fails, keeps the head and the disk, and succeeds on retry", async () => {
    const store = await connect();
    const epoch = (await new ProfileFence(store, profile).newestEpoch()) + 1;
    const out = await take(store, hostA, "desk-big", epoch);
    const headBefore = (await new ProfileFence(store, profile).readHead()).head;
    await write(out.disk, 0x43, "0", "192M"); // big enough that the upload is caught in flight
    store.close();

    const uploader = await connect();
    const checkingIn = settled(checkIn(uploader, profile, out));
    await uploadUnderWay(path.join(fileServerRoot(), profile, "versions"), 8 * 1024 * 1024);
    expect(killServerConnections().length).toBeGreaterThan(0);
    expect(await checkingIn).toMatchObject({ code: "ConnectionLost" });
    expect(await checkingIn).toBeInstanceOf(StoreError);

    const again = await connect();
    expect((await new ProfileFence(again, profile).readHead()).head).toEqual(headBefore);
    expect(existsSync(out.disk)).toBe(true);
    expect(await checkedOut(hostA, "desk-big")).toEqual(out); // remembered for the retry
    const retried = await checkIn(again, profile, out);
    expect(retried.head.chain).toEqual([...headBefore.chain, out.version]);
    expect(await again.collectPartials(`${profile}/versions`, 0)).toHaveLength(1); // the killed upload's

    // The head reads back on a third host with every write in it.
    const c = await take(again, path.join(local, "host-c"), "desk-c");
    expect(await holds(c.disk, 0x43, "0", "1M")).toBe(true);
    expect(await holds(c.disk, 0x42, "1M", "64k")).toBe(false); // overwritten by the 192M write
    expect(await holds(c.disk, 0x43, "191M", "1M")).toBe(true);
  });

  it("merges a chain longer than compactAfter into one new base, and later versions build on it", async () => {
    const store = await connect();
    const dir = `${profile}-compact`;
    const host = path.join(local, "compacting-host", dir);
    const session = async (epoch: number, pattern: number, offset: string) => {
      const out = await take(store, host, `c-${epoch}`, epoch, dir);
      await write(out.disk, pattern, offset, "64k");
      const result = await checkIn(store, dir, out, { compactAfter: 2 });
      await release(host, `c-${epoch}`, out);
      return result;
    };
    expect((await session(1, 0x51, "0")).head.chain).toEqual([versionName(1, 1)]);
    expect((await session(2, 0x52, "1M")).head.chain).toEqual([versionName(1, 1), versionName(2, 2)]);
    const third = await session(3, 0x53, "2M");
    expect(third).toMatchObject({ version: versionName(3, 3), compacted: compactedName(3, 3) });
    expect(third.head.chain).toEqual([compactedName(3, 3)]);
    expect((await new ProfileFence(store, dir).readHead()).head.chain).toEqual([compactedName(3, 3)]);
    // The base stands alone (no backing file), and every version's data is in it.
    const info = JSON.parse(
      await runCommand("qemu-img", [
        "info",
        "--output=json",
        path.join(fileServerRoot(), dir, "versions", compactedName(3, 3)),
      ]),
    ) as Record<string, unknown>;
    expect(info["backing-filename"]).toBeUndefined();
    // The next session builds on the base; a fresh host fetches two files, not four.
    expect((await session(4, 0x54, "3M")).head.chain).toEqual([compactedName(3, 3), versionName(4, 4)]);
    const fresh = path.join(local, "fresh-host", dir);
    const reader = await take(store, fresh, "reader", undefined, dir);
    expect(
      readdirSync(fresh)
        .filter((f) => f.endsWith(".qcow2"))
        .sort(),
    ).toEqual([compactedName(3, 3), versionName(4, 4), path.basename(reader.disk)].sort());
    for (const [pattern, offset] of [
      [0x51, "0"],
      [0x52, "1M"],
      [0x53, "2M"],
      [0x54, "3M"],
    ] as const)
      expect(await holds(reader.disk, pattern, offset, "64k")).toBe(true);
  });

  it("keeps the newest saves and the chains they need, deletes the rest, collects interrupted uploads, and measures what the profile uses", async () => {
    const store = await connect();
    const dir = `${profile}-retain`;
    const host = path.join(local, "retaining-host", dir);
    const onServer = (...p: string[]) => path.join(fileServerRoot(), dir, "versions", ...p);
    const session = async (epoch: number) => {
      const out = await take(store, host, `r-${epoch}`, epoch, dir);
      await write(out.disk, 0x60 + epoch, `${epoch}M`, "1M");
      const result = await checkIn(store, dir, out, { compactAfter: 3, retain: 2 });
      await release(host, `r-${epoch}`, out);
      return result;
    };
    for (const epoch of [1, 2, 3]) await session(epoch);
    const fourth = await session(4); // the chain v1..v4 is merged into c4
    expect(fourth.head.chain).toEqual([compactedName(4, 4)]);
    // The two newest saves (v4, v3) stay restorable, so their chains stay: nothing goes yet.
    const all = [4, 3, 2, 1].map((n) => versionName(n, n));
    expect(fourth.tidied).toMatchObject({ removed: [], restorable: all, versions: 5 });
    expect(await chainOnStore(store, dir, versionName(3, 3))).toEqual(all.slice(1).reverse());
    // An upload cut before its publish leaves a temp file; the next check-in collects it.
    await store.upload(path.join(host, compactedName(4, 4)), `${dir}/versions/${versionName(9, 9)}`);
    expect(readdirSync(onServer(".tmp"))).toHaveLength(1);
    const fifth = await session(5);
    expect(fifth.head.chain).toEqual([compactedName(4, 4), versionName(5, 5)]);
    expect(fifth.tidied).toMatchObject({ partials: 1, removed: [], restorable: [versionName(5, 5), ...all] });
    expect(readdirSync(onServer(".tmp"))).toEqual([]);
    const sixth = await session(6);
    expect(sixth.tidied).toMatchObject({
      removed: [...all].reverse(),
      restorable: [versionName(6, 6), versionName(5, 5)],
      versions: 3,
    });
    const left = readdirSync(onServer())
      .filter((f) => f.endsWith(".qcow2"))
      .sort();
    expect(left).toEqual([compactedName(4, 4), versionName(5, 5), versionName(6, 6)]);
    const bytes = left.reduce((sum, f) => sum + statSync(onServer(f)).size, 0);
    expect(sixth.tidied).toMatchObject({ storeBytes: bytes });
    expect(await chainOnStore(store, dir, versionName(5, 5))).toEqual([
      compactedName(4, 4),
      versionName(5, 5),
    ]);
    expect(await chainOnStore(store, dir, versionName(3, 3))).toBeUndefined(); // deleted
    // Every save wrote 1 MiB of its own: the profile holds six.
    expect(sixth.usedBytes).toBe(6 * 1024 ** 2);
    // The head still opens whole on a fresh host.
    const reader = await take(store, path.join(local, "retain-reader", dir), "reader", undefined, dir);
    for (const epoch of [1, 2, 3, 4, 5, 6])
      expect(await holds(reader.disk, 0x60 + epoch, `${epoch}M`, "1M")).toBe(true);
  });
});
