// The profile store against the real file server (OpenSSH's SFTP server, hack/fileserver-up.sh):
// upload, read-back verification, publish-once, the manifest swap, download, list and delete;
// then the failure that matters: the connection killed in the middle of an upload. The upload
// fails (it does not hang: ssh2 never answers a call on a dead connection), the published head
// and its manifest are as they were, and the partial upload is collected.
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { headName, ProfileFence, StaleEpochError } from "../../src/profiles/fence.js";
import { SftpStore, StoreError, TEMP_DIR } from "../../src/profiles/sftp-store.js";
import {
  fileServerConfig,
  fileServerRoot,
  killServerConnections,
  signalServerConnections,
  uploadUnderWay,
} from "./support/fileserver.js";
import { uniq } from "./support/griddesk.js";

jest.setTimeout(180_000);

const dir = `store-test-${uniq()}`;
const local = mkdtempSync(path.join(tmpdir(), "gd-store-"));
const stores: SftpStore[] = [];
const sha256 = (data: Buffer) => createHash("sha256").update(data).digest("hex");
const onServer = (rel: string) => path.join(fileServerRoot(), dir, rel);

async function connect(): Promise<SftpStore> {
  const store = await SftpStore.connect(fileServerConfig());
  stores.push(store);
  return store;
}

/** A local file of `bytes` random bytes; returns its path and content. */
function randomFile(name: string, bytes: number): { file: string; data: Buffer } {
  const data = randomBytes(bytes);
  const file = path.join(local, name);
  writeFileSync(file, data);
  return { file, data };
}

/** What a promise settled with, as a value: its error, or "resolved". */
const settled = (p: Promise<unknown>) =>
  p.then(
    () => "resolved" as const,
    (err: unknown) => err,
  );

beforeAll(() => {
  // Fails here, not later, when the file server is not there.
  fileServerConfig();
});

afterAll(() => {
  for (const s of stores) s.close();
  rmSync(local, { recursive: true, force: true });
  rmSync(path.join(fileServerRoot(), dir), { recursive: true, force: true });
});

describe("profile store on the real SFTP server", () => {
  it("uploads, verifies, publishes once, swaps the manifest, lists, downloads and deletes", async () => {
    const store = await connect();
    const { file, data } = randomFile("v1", 3 * 1024 * 1024 + 17);

    const upload = await store.upload(file, `${dir}/p/v1.qcow2`);
    expect(upload).toMatchObject({ size: data.length, sha256: sha256(data) });
    expect(upload.tempPath).toMatch(new RegExp(`^${dir}/p/${TEMP_DIR}/v1\\.qcow2\\.[0-9a-f]+\\.part$`));
    await store.verify(upload);
    await store.publishOnce(upload, `${dir}/p/v1.qcow2`);
    expect(sha256(readFileSync(onServer("p/v1.qcow2")))).toBe(sha256(data));
    expect(readdirSync(onServer(`p/${TEMP_DIR}`))).toEqual([]); // the temporary name is gone

    // Publish-once: a second publish under a taken name is refused, and the first stays.
    const other = randomFile("v1-other", 4096);
    const second = await store.upload(other.file, `${dir}/p/v1.qcow2`);
    await store.verify(second);
    const refused = await settled(store.publishOnce(second, `${dir}/p/v1.qcow2`));
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({ code: "Exists" });
    expect(sha256(readFileSync(onServer("p/v1.qcow2")))).toBe(sha256(data));
    expect(readdirSync(onServer(`p/${TEMP_DIR}`))).toEqual([]);

    // The manifest is swapped whole, never written in place.
    await store.swap(`${dir}/p/manifest.json`, Buffer.from('{"head":"v1"}'));
    const inodeBefore = statSync(onServer("p/manifest.json")).ino;
    await store.swap(`${dir}/p/manifest.json`, Buffer.from('{"head":"v2"}'));
    expect((await store.read(`${dir}/p/manifest.json`)).toString()).toBe('{"head":"v2"}');
    expect(statSync(onServer("p/manifest.json")).ino).not.toBe(inodeBefore);

    expect((await store.list(`${dir}/p`)).map((e) => [e.name, e.isDirectory])).toEqual([
      [TEMP_DIR, true],
      ["manifest.json", false],
      ["v1.qcow2", false],
    ]);
    expect(await store.list(`${dir}/nothing-here`)).toEqual([]);

    const back = path.join(local, "v1-back");
    await store.download(`${dir}/p/v1.qcow2`, back);
    expect(sha256(readFileSync(back))).toBe(sha256(data));
    expect(readdirSync(local).filter((f) => f.endsWith(".part"))).toEqual([]);

    await store.delete(`${dir}/p/v1.qcow2`);
    await store.delete(`${dir}/p/v1.qcow2`); // already gone: not an error
    expect(existsSync(onServer("p/v1.qcow2"))).toBe(false);
    const missing = await settled(store.download(`${dir}/p/v1.qcow2`, back));
    expect(missing).toMatchObject({ code: "NotFound" });
  });

  it("refuses what was not stored as sent, and paths outside the store", async () => {
    const store = await connect();
    const { file } = randomFile("v-corrupt", 64 * 1024);
    const upload = await store.upload(file, `${dir}/c/v1.qcow2`);
    // One byte changed on the server, as a faulty disk or a second writer would.
    const tempOnServer = onServer(path.posix.relative(dir, upload.tempPath));
    const onDisk = readFileSync(tempOnServer);
    onDisk[100] = (onDisk[100] as number) ^ 0xff;
    await writeFile(tempOnServer, onDisk);
    expect(await settled(store.verify(upload))).toMatchObject({ code: "VerifyFailed" });

    for (const bad of ["../escape", "/etc/passwd", `${dir}/../../x`])
      expect(await settled(store.list(bad))).toMatchObject({ code: "InvalidPath" });
  });

  it("connections cut during their handshake fail cleanly, and nothing else happens", async () => {
    // The server's connection processes are killed over and over while clients connect: each
    // connect either succeeds or fails cleanly (ssh2 emits more than one 'error' for such a
    // failure, and an unheard one would end this process, failing the whole suite).
    let cutting = true;
    const cutter = (async () => {
      while (cutting) {
        killServerConnections();
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const outcomes: unknown[] = [];
    try {
      for (let i = 0; i < 15; i++) {
        const config = fileServerConfig({ connectTimeoutMs: 3000 });
        const outcome = await settled(SftpStore.connect(config).then((s) => s.close()));
        outcomes.push(outcome);
      }
    } finally {
      cutting = false;
      await cutter;
    }
    const failures = outcomes.filter((o) => o !== "resolved");
    expect(failures.length).toBeGreaterThan(0); // the cuts did land
    // Cut (ConnectionLost), or cut where the client can only wait for its deadline (Timeout).
    for (const f of failures) {
      expect(f).toMatchObject({ name: "StoreError" });
      expect(["ConnectionLost", "Timeout"]).toContain((f as { code: string }).code);
    }
    await new Promise((r) => setTimeout(r, 500)); // late errors, if any, would surface here
    const after = await connect();
    expect(await after.exists(dir)).toBe(true);
  });

  it("an upload whose connection is killed fails; the head and its manifest are intact; the partial file is collected", async () => {
    const store = await connect();
    const v1 = randomFile("k-v1", 256 * 1024);
    const up1 = await store.upload(v1.file, `${dir}/k/v1.qcow2`);
    await store.verify(up1);
    await store.publishOnce(up1, `${dir}/k/v1.qcow2`);
    await store.swap(`${dir}/k/manifest.json`, Buffer.from('{"head":"v1.qcow2"}'));
    store.close();

    // A big increment (sparse: its size is what takes time over SSH, not its content).
    const big = path.join(local, "k-v2");
    writeFileSync(big, "");
    await truncate(big, 2 * 1024 ** 3);
    const uploader = await connect();
    const uploading = settled(uploader.upload(big, `${dir}/k/v2.qcow2`));
    await uploadUnderWay(onServer("k"), 8 * 1024 * 1024);
    const tmp = onServer(`k/${TEMP_DIR}`);
    expect(killServerConnections().length).toBeGreaterThan(0);

    const outcome = await uploading;
    expect(outcome).toBeInstanceOf(StoreError);
    expect(outcome).toMatchObject({ code: "ConnectionLost" });
    expect(uploader.connected).toBe(false);

    const after = await connect();
    expect((await after.read(`${dir}/k/manifest.json`)).toString()).toBe('{"head":"v1.qcow2"}');
    expect(sha256(readFileSync(onServer("k/v1.qcow2")))).toBe(sha256(v1.data));
    const partials = readdirSync(tmp);
    expect(partials).toHaveLength(1);
    expect(await after.collectPartials(`${dir}/k`, 0)).toEqual(partials);
    expect(readdirSync(tmp)).toEqual([]);
    expect((await after.list(`${dir}/k`)).map((e) => e.name)).toEqual([
      TEMP_DIR,
      "manifest.json",
      "v1.qcow2",
    ]);
  });

  it("a server that stops answering: the operation fails at its deadline and the connection is ended", async () => {
    // Keepalives far apart, so that only the operation's own deadline can end the wait.
    const store = await SftpStore.connect(
      fileServerConfig({ opTimeoutMs: 2_000, keepaliveIntervalMs: 120_000 }),
    );
    stores.push(store);
    await store.list(dir);
    const frozen = signalServerConnections("SIGSTOP");
    try {
      expect(frozen.length).toBeGreaterThan(0);
      const outcome = await settled(store.list(dir));
      expect(outcome).toBeInstanceOf(StoreError);
      expect(outcome).toMatchObject({ code: "Timeout" });
      expect(store.connected).toBe(false);
      expect(await settled(store.list(dir))).toMatchObject({ code: "ConnectionLost" });
    } finally {
      signalServerConnections("SIGCONT");
      killServerConnections();
    }
    const again = await connect();
    expect((await again.list(dir)).length).toBeGreaterThan(0);
  });
});

describe("one writer per profile, fenced at the store (two store clients)", () => {
  it("a stale epoch's publish is refused, and a zombie's write is never read", async () => {
    const [a, b] = [await connect(), await connect()];
    const p = `${dir}/fenced`;
    const [fa, fb] = [new ProfileFence(a, p), new ProfileFence(b, p)];
    expect(await fa.readHead()).toEqual({ epoch: 0, head: { chain: [] } }); // a first logon

    // Writer A (epoch 1) takes the profile and publishes v1.
    expect(await fa.claim(1)).toEqual({ chain: [] });
    await fa.publish(1, { chain: ["v1"] });
    expect(await fb.readHead()).toEqual({ epoch: 1, head: { chain: ["v1"] } });

    // Writer B is granted epoch 2 (A's host stopped answering): it starts from A's head.
    expect(await fb.claim(2)).toEqual({ chain: ["v1"] });
    expect(await fa.readHead()).toEqual({ epoch: 2, head: { chain: ["v1"] } });

    // A comes back and publishes with its old epoch: refused, head unchanged.
    const refused = await settled(fa.publish(1, { chain: ["v1", "a2"] }));
    expect(refused).toBeInstanceOf(StaleEpochError);
    expect(refused).toMatchObject({ epoch: 1, newest: 2 });
    expect(await fb.readHead()).toEqual({ epoch: 2, head: { chain: ["v1"] } });
    // Nor can it claim an epoch the store already knows.
    expect(await settled(fa.claim(2))).toMatchObject({ epoch: 2, newest: 2 });

    // A zombie that passed its check before B's claim still lands its write on the store (SFTP
    // has no compare-and-swap): it is there, and nobody reads it.
    await a.swap(`${p}/heads/${headName(1)}`, Buffer.from(JSON.stringify({ chain: ["v1", "zombie"] })));
    expect(readFileSync(onServer(`fenced/heads/${headName(1)}`), "utf8")).toContain("zombie");
    expect(await fa.readHead()).toEqual({ epoch: 2, head: { chain: ["v1"] } });

    // B publishes; both clients read B's head.
    await fb.publish(2, { chain: ["v1", "b2"] });
    for (const f of [fa, fb]) expect(await f.readHead()).toEqual({ epoch: 2, head: { chain: ["v1", "b2"] } });
  });
});
