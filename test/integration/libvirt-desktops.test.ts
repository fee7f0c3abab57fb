// End to end on a real libvirtd: a controller and a libvirt agent process, a pool over the
// bootable test image. Logon gives a running QEMU domain on an overlay over the cached golden
// image with a live VNC console; logoff removes domain and overlay. A pool whose image checksum
// does not match fails its desktops with ChecksumMismatch, says so on host and pool, and never
// starts a domain from it.
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import type { Desktop } from "../../src/api/types.generated.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import { diskInfo } from "../../src/volumes/qemu-img.js";
import { watchObjects } from "./drain-support.js";
import { createTestNamespace, deleteNamespace, eventually, installCrds } from "./support/cluster.js";
import { clients, sessionObject, startControllerProcess, uniq } from "./support/griddesk.js";
import { stopAll, type GriddeskProcess } from "./support/processes.js";
import { hostContents, libvirtPool, startLibvirtAgent } from "./libvirt-agents.js";
import { pngHasContent, screenshot } from "./libvirt-screen.js";
import {
  libvirtUp,
  removeDir,
  rfbBanner,
  storageDir,
  testImage,
  type BootableImage,
} from "./libvirt-support.js";

jest.setTimeout(300_000);

const id = uniq();
const site = `lv-${id}`;
const host = `lv-${id}`;
const c = clients();
const storage = storageDir("desktops");
let image: BootableImage;
let ns = "";
let sys = "";
const procs: GriddeskProcess[] = [];
const logs = () => procs.map((p) => `--- ${p.name}\n${p.tail(40)}`).join("\n");

beforeAll(async () => {
  libvirtUp();
  image = testImage();
  await installCrds();
  ns = await createTestNamespace("lv");
  sys = await createTestNamespace("lv-sys");
  procs.push(startControllerProcess("lv-controller", { systemNamespace: sys, gracePeriodSeconds: 30 }));
  procs.push(
    startLibvirtAgent("lv-agent", { systemNamespace: sys, host, storagePath: storage, labels: { site } }),
  );
  await c.pools.create(
    libvirtPool(ns, "boot", image, { buffer: 1, hostSelector: { matchLabels: { site } } }),
  );
  await eventually(
    "a warm desktop on the libvirt host",
    async () => (await c.pools.get({ namespace: ns, name: "boot" })).status?.available === 1,
    180_000,
    1000,
  ).catch((err: unknown) => {
    throw new Error(`${String(err)}\n${logs()}`);
  });
});

afterAll(async () => {
  await c.pools.delete({ namespace: ns, name: "boot" }).catch(() => undefined);
  await c.pools.delete({ namespace: ns, name: "bad" }).catch(() => undefined);
  await eventually(
    "desktops gone",
    async () => (await c.desktops.list({ namespace: ns })).length === 0,
    60_000,
  );
  await stopAll(procs);
  await deleteNamespace(ns);
  await deleteNamespace(sys);
  await c.hosts.delete({ name: host }).catch(() => undefined);
  removeDir(storage);
});

describe("libvirt desktops", () => {
  it("logon: a running domain on an overlay, VNC live; logoff: domain and overlay gone", async () => {
    // The host's status (facts, cached images) is the agent's own roll-up, written apart from
    // the desktop that made the pool ready: wait for it.
    const node = await eventually(
      "the host reports the image Ready",
      async () => {
        const n = await c.hosts.get({ name: host });
        return n.status?.images?.some((i) => i.sha256 === image.sha256 && i.state === "Ready")
          ? n
          : undefined;
      },
      60_000,
    );
    expect(node.status?.facts?.hypervisorVersion).toMatch(/QEMU .* \/ libvirt/);

    await c.sessions.create(sessionObject(ns, "boot", "alice"));
    const session = await eventually("alice Ready", async () => {
      const s = await c.sessions.get({ namespace: ns, name: "alice" });
      return s.status?.phase === "Ready" ? s : undefined;
    });
    const desktop = await c.desktops.get({ namespace: ns, name: session.status?.desktopRef as string });
    const uid = desktop.metadata.uid as string;
    expect(desktop.spec.hostRef).toBe(host);
    expect(hostContents(storage).domains).toContain(uid);
    const overlay = desktop.status?.overlayPath as string;
    expect(overlay).toBe(path.join(storage, "overlays", `${uid}.qcow2`));
    const info = await diskInfo(overlay, "qcow2");
    expect(info.backingFile).toBe(path.join(storage, "images", `${image.sha256}.img`));

    const port = session.status?.endpoint?.port as number;
    expect(await rfbBanner(port)).toMatch(/^RFB 003\.00\d\n$/);
    await eventually(
      "the guest drew on its screen",
      async () => pngHasContent(screenshot(`gd-${uid}`)),
      120_000,
      2000,
    );

    await c.sessions.delete({ namespace: ns, name: "alice" });
    await eventually(
      "desktop deleted",
      async () => !(await c.desktops.tryGet({ namespace: ns, name: desktop.metadata.name as string })),
    );
    const left = hostContents(storage);
    expect(left.domains).not.toContain(uid);
    expect(left.overlays).not.toContain(uid);
    expect(left.records).not.toContain(uid);
    expect(existsSync(overlay)).toBe(false);
  });

  it("an image whose checksum does not match: Failed desktops, host and pool say why, no domain", async () => {
    const wrong = { ...image, sha256: "0".repeat(64) };
    // Watched, not polled: a failed desktop is replaced within moments, so a poll can miss it.
    let failedSeen: Desktop | undefined;
    const watch = await watchObjects<Desktop>(Resources.Desktop, { namespace: ns }, (d) => {
      if (
        d.metadata.ownerReferences?.[0]?.name === "bad" &&
        d.status?.phase === "Failed" &&
        d.status?.conditions?.some((x) => x.type === "ImageReady" && x.reason === "ChecksumMismatch")
      )
        failedSeen ??= structuredClone(d) as Desktop;
    });
    await c.pools.create(
      libvirtPool(ns, "bad", wrong, { buffer: 1, hostSelector: { matchLabels: { site } } }),
    );
    const failed = await eventually(
      "a desktop Failed with ChecksumMismatch",
      async () => failedSeen,
      120_000,
    ).finally(() => watch.stop());
    expect(failed.status?.message).toContain("ImageChecksumMismatch");
    const pool = await eventually("pool ProvisioningFailing", async () => {
      const p = await c.pools.get({ namespace: ns, name: "bad" });
      return p.status?.conditions?.find((x) => x.reason === "ProvisioningFailing");
    });
    expect(pool.status).toBe("False");
    const cached = await eventually("host reports the image Failed", async () => {
      const n = await c.hosts.get({ name: host });
      return n.status?.images?.find((i) => i.sha256 === wrong.sha256 && i.state === "Failed");
    });
    expect(cached.message).toContain("ImageChecksumMismatch");
    const badUids = (await c.desktops.list({ namespace: ns }))
      .filter((d) => d.metadata.ownerReferences?.[0]?.name === "bad")
      .map((d) => d.metadata.uid);
    expect(hostContents(storage).domains.filter((u) => badUids.includes(u))).toEqual([]);
    const images = readdirSync(path.join(storage, "images"));
    expect(images.filter((f) => f.startsWith(wrong.sha256) || f.endsWith(".part"))).toEqual([]);
  });
});
