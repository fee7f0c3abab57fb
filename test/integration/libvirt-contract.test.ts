// The shared adapter contract (test/unit/hypervisors/contract.ts), run against the libvirt
// adapter on the host's real libvirtd: real overlays, real QEMU domains, real VNC ports.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, jest } from "@jest/globals";
import type { HypervisorAdapter } from "../../src/hypervisors/adapter.js";
import type { HostStorage } from "../../src/hypervisors/libvirt/index.js";
import { libvirtAdapterFactory } from "../../src/hypervisors/libvirt/index.js";
import { runCommand } from "../../src/volumes/command.js";
import { createOverlay, diskInfo } from "../../src/volumes/qemu-img.js";
import { describeAdapterContract } from "../unit/hypervisors/contract.js";
import {
  imageSources,
  libvirtUp,
  removeDir,
  storageDir,
  testImage,
  virsh,
  type BootableImage,
} from "./libvirt-support.js";

jest.setTimeout(120_000);

let image: BootableImage;
beforeAll(() => {
  libvirtUp();
  image = testImage();
});

/** A domain griddesk did not make: no metadata, no disk, tiny. */
function startForeign(name: string, dir: string): void {
  const file = path.join(dir, `${name}.xml`);
  writeFileSync(
    file,
    `<domain type='qemu'><name>${name}</name><memory unit='MiB'>32</memory><vcpu>1</vcpu>` +
      `<os><type arch='x86_64' machine='pc'>hvm</type></os></domain>`,
  );
  execFileSync("virsh", ["-q", "-c", "qemu:///system", "create", file]);
}

describeAdapterContract(
  "libvirt",
  async () => {
    const dir = storageDir("contract");
    const storages = new Map<string, HostStorage>();
    const factory = libvirtAdapterFactory({ storages, sources: imageSources(image) });
    const host = { hostName: "libvirt-contract", settings: { storagePath: dir } };
    let adapter: HypervisorAdapter = factory(host);
    const foreign: string[] = [];
    return {
      get adapter() {
        return adapter;
      },
      image,
      tick: () => new Promise((r) => setTimeout(r, 500)),
      scratchDisk: async () => {
        const file = path.join(dir, `scratch-${randomUUID()}.qcow2`);
        await runCommand("qemu-img", ["create", "-q", "-f", "qcow2", file, "16M"]);
        return file;
      },
      overlayOf: async (disk) => {
        const file = path.join(dir, `overlay-${randomUUID()}.qcow2`);
        await createOverlay(file, { path: path.basename(disk), format: "qcow2", virtualSize: 0 }, 0);
        return file;
      },
      afterFreeze: async (disk, next) => {
        // The overlay kept the relative backing name it was made with (a version published to
        // the store must not name a host path), and both files are sound.
        expect((await diskInfo(next, "qcow2")).backingFile).toBe(path.basename(disk));
        await runCommand("qemu-img", ["check", "-q", next]);
        await runCommand("qemu-img", ["check", "-q", disk]);
      },
      addForeignVm: async (name) => {
        startForeign(name, dir);
        foreign.push(name);
      },
      pullCount: () => storages.get(dir)?.cache.pullsStarted ?? 0,
      restart: async () => {
        await adapter.close();
        adapter = factory(host);
        return adapter;
      },
      close: async () => {
        await adapter.close();
        for (const name of foreign) virsh(["destroy", name]);
        removeDir(dir);
      },
    };
  },
  { maxTicks: 120 },
);
