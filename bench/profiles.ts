// `npm run bench:profiles` (`make bench-profiles`): what a user's profile costs, against the
// naive way, measured in one run on the same store (the real file server, OpenSSH's SFTP server
// from hack/fileserver-up.sh) with the data path's own code (src/profiles/checkout.ts).
//
// 1. Logoff sync of a 1 GiB profile after the user changed 1, 10 and 100 MiB (qemu-io writes at
//    random 1 MiB-aligned places): bytes sent and time, next to copying the whole profile to the
//    same store (a flattened qcow2 of it, uploaded the same way: the naive baseline).
// 2. The time a profile adds to a logon: with the chain cached on the host (only the claim and a
//    new overlay) and on a fresh host (the missing versions fetched), next to the raw transfer
//    time of the very same files from the same store (SFTP downloads, nothing else).
//
// Goals (issue 22): bytes sent within 1.2x the bytes changed; cached, under 1 s; uncached, within
// 1.5x the raw transfer. Each case runs RUNS times (default 3); the median is reported.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { checkIn, checkOut, release, type CheckedOut } from "../src/profiles/checkout.js";
import { SftpStore, type SftpStoreConfig } from "../src/profiles/sftp-store.js";
import { flattenImage } from "../src/volumes/index.js";

const run = promisify(execFile);
const repo = path.resolve(new URL("../", import.meta.url).pathname);
const RUNS = Number(process.env.RUNS ?? 3);
const MiB = 1024 ** 2;
const PROFILE_BYTES = 1024 * MiB;
const INCREMENTS_MIB = [1, 10, 100];

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(1)} MiB`;
async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const value = await fn();
  return [value, performance.now() - t0];
}

// --- the file server ----------------------------------------------------------------------
const exports = (await run(path.join(repo, "hack/fileserver-up.sh"))).stdout;
const envOf = (name: string): string => {
  const m = new RegExp(`${name}=(\\S+)`).exec(exports);
  if (!m?.[1]) throw new Error(`hack/fileserver-up.sh did not say ${name}`);
  return m[1];
};
const config: SftpStoreConfig = {
  host: envOf("GRIDDESK_SFTP_HOST"),
  port: Number(envOf("GRIDDESK_SFTP_PORT")),
  username: envOf("GRIDDESK_SFTP_USER"),
  privateKey: readFileSync(envOf("GRIDDESK_SFTP_KEY")),
  hostKey: readFileSync(envOf("GRIDDESK_SFTP_HOST_KEY"), "utf8"),
  root: envOf("GRIDDESK_SFTP_ROOT"),
};
const store = await SftpStore.connect(config);
const profileDir = `bench-profiles-${process.pid}`;
const local = mkdtempSync(path.join(tmpdir(), "gd-bench-profiles-"));
const hostA = path.join(local, "host-a");
let epoch = 0;
let owner = 0;

/** A writable check-out on `host` at the next epoch (the lock's grant, as the controller gives it). */
async function session(host: string): Promise<{ out: CheckedOut; name: string; ms: number }> {
  const name = `bench-${++owner}`;
  const [out, ms] = await timed(() =>
    checkOut({
      store,
      profileDir,
      localDir: host,
      mode: "ReadWrite",
      epoch: ++epoch,
      owner: name,
      sizeBytes: PROFILE_BYTES,
    }),
  );
  return { out, name, ms };
}

/** `mib` MiB written at random 1 MiB-aligned places of the disk (distinct ones), as a user would. */
async function change(disk: string, sizeMiB: number): Promise<void> {
  const places = new Set<number>();
  while (places.size < sizeMiB) places.add(Math.floor(Math.random() * (PROFILE_BYTES / MiB)));
  const cmds = [...places].flatMap((p) => ["-c", `write -P ${(p % 250) + 1} ${p}M 1M`]);
  for (let i = 0; i < cmds.length; i += 400)
    await run("qemu-io", ["-f", "qcow2", ...cmds.slice(i, i + 400), disk]);
}

try {
  console.log(`profile benchmark: ${RUNS} runs per case, 1 GiB profile, store ${config.host}:${config.port}`);
  // The user's 1 GiB profile, saved once.
  const first = await session(hostA);
  await run("qemu-io", ["-f", "qcow2", "-c", `write -P 90 0 ${PROFILE_BYTES}`, first.out.disk]);
  const [, firstMs] = await timed(() => checkIn(store, profileDir, first.out));
  await release(hostA, first.name, first.out);
  console.log(`first save of the whole profile: ${secs(firstMs)}`);

  // 1. Logoff sync against a full copy.
  const rows: string[] = [];
  const goals: string[] = [];
  for (const inc of INCREMENTS_MIB) {
    const sent: number[] = [];
    const syncMs: number[] = [];
    const fullMs: number[] = [];
    let fullBytes = 0;
    for (let r = 0; r < RUNS; r++) {
      const s = await session(hostA);
      await change(s.out.disk, inc);
      const [result, ms] = await timed(() => checkIn(store, profileDir, s.out));
      sent.push(result.sizeBytes);
      syncMs.push(ms);
      // The naive baseline: the whole profile as one file, copied to the same store.
      const whole = path.join(local, `whole-${r}.qcow2`);
      await flattenImage(s.out.disk, whole);
      fullBytes = statSync(whole).size;
      const [upload, ms2] = await timed(() => store.upload(whole, `${profileDir}/naive/whole.qcow2`));
      fullMs.push(ms2);
      await store.delete(upload.tempPath);
      rmSync(whole, { force: true });
      await release(hostA, s.name, s.out);
    }
    const bytes = median(sent);
    const ratio = bytes / (inc * MiB);
    rows.push(
      `  ${String(inc).padStart(3)} MiB changed: sent ${mib(bytes)} (${ratio.toFixed(2)}x the change) in ${secs(median(syncMs))}` +
        `; full copy ${mib(fullBytes)} in ${secs(median(fullMs))}: ${(fullBytes / bytes).toFixed(1)}x the bytes, ` +
        `${(median(fullMs) / median(syncMs)).toFixed(1)}x the time`,
    );
    goals.push(
      `bytes sent within 1.2x the change (${inc} MiB): ${ratio <= 1.2 ? "met" : "MISSED"} (${ratio.toFixed(2)}x)`,
    );
  }
  console.log("logoff sync (check, upload, read-back, publish, head swap), median:");
  for (const row of rows) console.log(row);

  // 2. The time a profile adds to a logon.
  const cachedMs: number[] = [];
  const freshMs: number[] = [];
  const rawMs: number[] = [];
  let fetched = 0;
  for (let r = 0; r < RUNS; r++) {
    const cached = await session(hostA);
    cachedMs.push(cached.ms);
    await release(hostA, cached.name, cached.out); // never checked in: the next epoch starts from the same head
    const fresh = path.join(local, `fresh-${r}`);
    const s = await session(fresh);
    freshMs.push(s.ms);
    fetched = s.out.base.chain.reduce((sum, f) => sum + statSync(path.join(fresh, f)).size, 0);
    // The raw transfer of the same files from the same store.
    const raw = path.join(local, `raw-${r}`);
    mkdirSync(raw);
    const [, ms] = await timed(async () => {
      for (const f of s.out.base.chain)
        await store.download(`${profileDir}/versions/${f}`, path.join(raw, f));
    });
    rawMs.push(ms);
    rmSync(fresh, { recursive: true, force: true });
    rmSync(raw, { recursive: true, force: true });
  }
  const addRatio = median(freshMs) / median(rawMs);
  console.log("logon: what the profile adds, median:");
  console.log(`  chain cached on the host: ${secs(median(cachedMs))} (claim + overlay)`);
  console.log(
    `  fresh host: ${secs(median(freshMs))} for ${mib(fetched)} fetched; raw transfer of the same files ${secs(median(rawMs))}: ${addRatio.toFixed(2)}x`,
  );
  goals.push(
    `cached logon under 1 s: ${median(cachedMs) < 1000 ? "met" : "MISSED"} (${secs(median(cachedMs))})`,
  );
  goals.push(
    `uncached within 1.5x the raw transfer: ${addRatio <= 1.5 ? "met" : "MISSED"} (${addRatio.toFixed(2)}x)`,
  );
  console.log("goals:");
  for (const g of goals) console.log(`  ${g}`);
} finally {
  await store.removeTree(profileDir).catch(() => undefined);
  store.close();
  rmSync(local, { recursive: true, force: true });
}
