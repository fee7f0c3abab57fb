// The admin's source policy and the fetch limits, end to end on a real libvirtd: a libvirt agent
// allowed one local root besides the test image's directory and one URL prefix on a local HTTP
// server, with a 16 MiB size limit, a 2 s stall timeout and a 4 s deadline. Each pool below names
// a source it must not get (a file outside the roots, also through a symlink or '..'; a URL
// outside the prefix; a file over the limit; a URL that stalls, one that drips; a file URL no
// file can have; a kernel whose sha256 is wrong; images crafted to reach the host's files): its
// desktops fail, the pool's status and an Event say why, the host's cache keeps nothing of it and
// no domain is ever defined. A pool whose image comes through the allowed prefix still boots.
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { DesktopImage } from "../../src/api/types.generated.js";
import {
  createTestNamespace,
  deleteNamespace,
  eventsWhen,
  eventually,
  installCrds,
} from "./support/cluster.js";
import {
  clients,
  startControllerProcess,
  startSimulatedAgent,
  tempStateDir,
  uniq,
} from "./support/griddesk.js";
import { stopAll, type GriddeskProcess } from "./support/processes.js";
import { hostContents, libvirtPool, startLibvirtAgent } from "./libvirt-agents.js";
import { libvirtUp, removeDir, storageDir, testImage, type BootableImage } from "./libvirt-support.js";
import { runCommand } from "../../src/volumes/command.js";
import { CRAFTED_IMAGES } from "../unit/volumes/qcow2-fixtures.js";

jest.setTimeout(300_000);

const id = uniq();
const site = `src-${id}`;
const simSite = `src-sim-${id}`;
const simHost = `src-sim-${id}`;
const host = `src-${id}`;
const c = clients();
const storage = storageDir("sources");
const allowedRoot = mkdtempSync(path.join("/var/tmp", "griddesk-allowed-"));
const outside = mkdtempSync(path.join("/var/tmp", "griddesk-outside-"));
let image: BootableImage;
let ns = "";
let sys = "";
let server: Server;
let base = "";
const procs: GriddeskProcess[] = [];
const logs = () => procs.map((p) => `--- ${p.name}\n${p.tail(40)}`).join("\n");
const LIMIT = "16Mi";

beforeAll(async () => {
  libvirtUp();
  image = testImage();
  const golden = readFileSync(new URL(image.source));
  // A secret outside every root, and ways a pool author might reach it from inside one.
  writeFileSync(path.join(outside, "secret.qcow2"), "the agent's eyes only");
  symlinkSync(path.join(outside, "secret.qcow2"), path.join(allowedRoot, "innocent.qcow2"));
  writeFileSync(path.join(allowedRoot, "huge.qcow2"), "");
  truncateSync(path.join(allowedRoot, "huge.qcow2"), 17 * 1024 ** 2); // sparse, over the limit
  server = createServer((req, res) => {
    if (req.url === "/golden/ok.qcow2") res.end(golden);
    else if (req.url === "/golden/stalls.qcow2")
      res.write(golden.subarray(0, 4096)); // then silence
    else if (req.url === "/golden/drips.qcow2") {
      // A byte every 500 ms, inside the 2 s stall timeout: only the 4 s deadline ends it.
      const drip = setInterval(
        () => (res.destroyed ? clearInterval(drip) : res.write(golden.subarray(0, 1))),
        500,
      );
    } else res.end(golden); // anything else would be served: only the policy keeps it out
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await installCrds();
  ns = await createTestNamespace("src");
  sys = await createTestNamespace("src-sys");
  procs.push(startControllerProcess("src-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  procs.push(
    startLibvirtAgent("src-agent", {
      systemNamespace: sys,
      host,
      storagePath: storage,
      labels: { site },
      extra: [
        ...["--allow-source-root", allowedRoot, "--allow-source-url-prefix", `${base}/golden/`],
        ...["--fetch-max-bytes", LIMIT, "--fetch-stall-timeout", "2", "--fetch-deadline", "4"],
      ],
    }),
  );
  // A simulated host under the same policy: a pool is refused on it the same way.
  procs.push(
    startSimulatedAgent("src-sim", {
      systemNamespace: sys,
      hosts: [simHost],
      stateDir: tempStateDir(),
      labels: { site: simSite },
      sourceRoots: [allowedRoot],
    }),
  );
});

afterAll(async () => {
  for (const p of await c.pools.list({ namespace: ns }).catch(() => []))
    await c.pools.delete({ namespace: ns, name: p.metadata.name as string }).catch(() => undefined);
  await eventually(
    "desktops gone",
    async () => (await c.desktops.list({ namespace: ns })).length === 0,
    60_000,
  ).catch(() => undefined);
  await stopAll(procs);
  server?.closeAllConnections();
  server?.close();
  await deleteNamespace(ns);
  await deleteNamespace(sys);
  await c.hosts.delete({ name: host }).catch(() => undefined);
  await c.hosts.delete({ name: simHost }).catch(() => undefined);
  for (const dir of [storage, allowedRoot, outside]) removeDir(dir);
});

/** A sha256 nothing else uses, so the cache's files of this pool are easy to tell apart. */
const freshSha = (): string => createHash("sha256").update(randomBytes(16)).digest("hex");

/**
 * Creates a pool over `img` and waits for its status, an Event of the pool and one of a failed
 * desktop (failed desktops are replaced at once, so their Events are what stays) to give `why`;
 * then checks that the host kept nothing of it and defined no domain at all.
 */
async function refused(
  name: string,
  img: DesktopImage,
  why: string,
  /** How the refused file would be named in the host's cache: its sha256. */
  keptAs = img.sha256,
  onSite = site,
): Promise<void> {
  await c.pools.create(
    libvirtPool(ns, name, img as BootableImage, {
      buffer: 1,
      hostSelector: { matchLabels: { site: onSite } },
    }),
  );
  const condition = await eventually(
    `${name}'s status says why`,
    async () => {
      const p = await c.pools.get({ namespace: ns, name });
      return p.status?.conditions?.find((x) => x.type === "Ready" && x.message.includes(why));
    },
    120_000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${logs()}`);
  });
  expect(condition).toMatchObject({ status: "False", reason: "ProvisioningFailing" });
  const messages = "jsonpath={.items[*].message}";
  await eventsWhen(ns, `involvedObject.name=${name},reason=ProvisioningBackoff`, messages, (out) =>
    out.includes(why),
  );
  await eventsWhen(ns, "involvedObject.kind=Desktop,reason=ProvisioningFailed", messages, (out) =>
    out.includes(why),
  );
  expect(hostContents(storage).domains).toEqual([]);
  const kept = [...readdirSync(path.join(storage, "images")), ...readdirSync(path.join(storage, "boot"))];
  expect(kept.filter((f) => f.startsWith(keptAs) || f.endsWith(".part"))).toEqual([]);
  await c.pools.delete({ namespace: ns, name });
}

const withSource = (source: string): DesktopImage => ({ ...image, source, sha256: freshSha() });

describe("the admin's source policy on a libvirt host", () => {
  it("refuses a file outside the allowed roots, named directly, through '..' or through a symlink", async () => {
    const secret = path.join(outside, "secret.qcow2");
    await refused("direct", withSource(`file://${secret}`), "is not under a local root this host allows");
    await refused(
      "dotdot",
      withSource(`${allowedRoot}/../${path.basename(outside)}/secret.qcow2`),
      "is not under a local root this host allows",
    );
    await refused(
      "symlink",
      withSource(path.join(allowedRoot, "innocent.qcow2")),
      "is not under a local root this host allows",
    );
  });

  it("refuses the same pool the same way on a simulated host (which judges the names: it has no files)", async () => {
    await refused(
      "simulated",
      withSource(`${allowedRoot}/../${path.basename(outside)}/secret.qcow2`),
      `${allowedRoot}/../${path.basename(outside)}/secret.qcow2 is not under a local root this host allows (${allowedRoot})`,
      undefined,
      simSite,
    );
  });

  it("refuses a URL outside the allowed prefixes", async () => {
    await refused(
      "url",
      withSource(`${base}/internal/metadata.qcow2`),
      "is not under a URL prefix this host allows",
    );
  });

  it("refuses a source over the size limit, and one that stalls past the timeout", async () => {
    await refused(
      "huge",
      withSource(path.join(allowedRoot, "huge.qcow2")),
      `larger than the fetch limit of ${16 * 1024 ** 2} bytes`,
    );
    await refused("stalls", withSource(`${base}/golden/stalls.qcow2`), "nothing received for 2000 ms");
  });

  it("fails a source that drips a byte inside the stall timeout, at the fetch's deadline", async () => {
    await refused(
      "drips",
      withSource(`${base}/golden/drips.qcow2`),
      "not finished within 4000 ms (the fetch's deadline)",
    );
  });

  it("refuses a file URL no file can have (an encoded '/') at once, as written", async () => {
    const bad = `file://${allowedRoot}/a%2Fgolden.qcow2`;
    await refused("encoded", withSource(bad), `image source ${bad} is not a usable file:/// URL`);
  });

  it("refuses a kernel whose sha256 is not the one named, naming only the expected digest", async () => {
    const wrong = freshSha();
    const img = { ...image, boot: { ...image.boot, kernelSha256: wrong } };
    await refused("kernel", img, `does not match the sha256 the image names (${wrong})`, wrong);
    // Nor under the digest of what was read.
    expect(readdirSync(path.join(storage, "boot")).join(" ")).not.toContain(image.boot.kernelSha256);
  });

  it("boots a pool whose image comes through an allowed URL prefix, checked by its sha256", async () => {
    const img = { ...image, source: `${base}/golden/ok.qcow2` };
    await c.pools.create(
      libvirtPool(ns, "served", img, { buffer: 1, hostSelector: { matchLabels: { site } } }),
    );
    await eventually(
      "a warm desktop from the served image",
      async () => (await c.pools.get({ namespace: ns, name: "served" })).status?.available === 1,
      180_000,
      1000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}\n${logs()}`);
    });
    expect(readdirSync(path.join(storage, "images")).some((f) => f.startsWith(image.sha256))).toBe(true);
  });
});

describe("images that would reach the host's files", () => {
  // The pool that booted above goes first: "nothing booted" is then a host without domains.
  beforeAll(async () => {
    await c.pools.delete({ namespace: ns, name: "served" }).catch(() => undefined);
    await eventually(
      "the served pool's domain gone",
      () => hostContents(storage).domains.length === 0,
      120_000,
      500,
    );
  });

  // Each made by the real qemu-img inside an allowed root, pinned by its own sha256: the source
  // policy and the checksum pass, and only the inspector stands between it and qemu-img.
  it.each(CRAFTED_IMAGES.map((c) => [c.file, c] as const))(
    "refuses %s before qemu-img opens it: nothing cached, nothing booted",
    async (file, crafted) => {
      const target = path.join(allowedRoot, file);
      for (const args of crafted.commands(target)) await runCommand("qemu-img", args);
      // The data file an attacker would point at: what a desktop's disk would read.
      if (crafted.file.startsWith("data-file")) writeFileSync(`${target}.data`, "the agent's eyes only");
      const sha256 = createHash("sha256").update(readFileSync(target)).digest("hex");
      const img = { ...image, source: `file://${target}`, sha256, format: crafted.format };
      await refused(
        `crafted-${file.replace(/[^a-z0-9]+/g, "-")}`.slice(0, 40),
        img,
        "refused before it was opened: ",
      );
      // The reason itself, as the pool's status gives it.
      const events = await eventsWhen(
        ns,
        "involvedObject.kind=Desktop,reason=ProvisioningFailed",
        "jsonpath={.items[*].message}",
        (out) => crafted.refusal.test(out),
      );
      expect(events).toMatch(crafted.refusal);
    },
  );

  it("refuses a golden image whose disk is larger than the pool's spec.resources.disk", async () => {
    const target = path.join(allowedRoot, "too-large.qcow2");
    await runCommand("qemu-img", ["create", "-q", "-f", "qcow2", target, "2G"]); // the pool's disk is 1Gi
    const sha256 = createHash("sha256").update(readFileSync(target)).digest("hex");
    await refused(
      "too-large",
      { ...image, source: `file://${target}`, sha256 },
      `the golden image's disk is ${2 * 1024 ** 3} bytes, larger than the pool's spec.resources.disk (${1024 ** 3} bytes)`,
      "no-such-prefix", // a plain image, rightly cached: only the desktop is refused
    );
  });
});
