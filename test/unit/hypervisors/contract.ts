// The adapter contract (src/hypervisors/CONTRACT.md) as a reusable suite: every adapter runs it,
// the simulated one against a manual clock, the libvirt one against a real libvirtd.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "@jest/globals";
import type { AdapterEvent } from "../../../src/hypervisors/adapter.js";
import { ContractKit, type ContractHarness } from "./contract-kit.js";
import { describeLifecycleContract } from "./contract-lifecycle.js";
import { hostOf, portOf } from "./sim-helpers.js";

export type { ContractHarness } from "./contract-kit.js";

export function describeAdapterContract(
  name: string,
  makeHarness: () => Promise<ContractHarness>,
  { maxTicks = 300 } = {},
): void {
  describe(`adapter contract: ${name}`, () => {
    const k = new ContractKit(maxTicks);
    beforeEach(async () => {
      k.h = await makeHarness();
    });
    afterEach(() => k.tearDown());

    it("create returns at once; the VM becomes running with an endpoint", async () => {
      const s = k.spec("boot");
      const first = await k.h.adapter.create(s);
      expect(["provisioning", "running"]).toContain(first.state);
      expect(first.id).toEqual(s.id);
      const status = await k.settled(s.id);
      expect(status).toMatchObject({ state: "running", id: s.id, imageSha256: k.h.image.sha256 });
      expect(status?.resources).toEqual({
        cpuMilli: 1000,
        memoryBytes: s.memoryBytes,
        diskBytes: s.diskBytes,
      });
      // A host and port, or (KubeVirt) the VMI whose console the API server serves.
      const endpoint = status?.endpoint;
      if (endpoint && "kubevirt" in endpoint) expect(endpoint.kubevirt.name).not.toBe("");
      else {
        expect(portOf(status)).toBeGreaterThan(0);
        expect(hostOf(status)).not.toBe("");
      }
    });

    it("create is idempotent by uid, sequentially and concurrently", async () => {
      const s = k.spec("twice");
      const [a, b] = await Promise.all([k.h.adapter.create(s), k.h.adapter.create(s)]);
      expect(a.createdAt).toBe(b.createdAt);
      await k.settled(s.id);
      const again = await k.h.adapter.create(s);
      expect(again.state).toBe("running");
      expect(again.endpoint).toEqual((await k.h.adapter.get(s.id))?.endpoint);
      expect(await k.ours()).toHaveLength(1);
    });

    it("get returns null for a VM that does not exist", async () => {
      expect(await k.h.adapter.get({ namespace: "contract", name: "nobody", uid: randomUUID() })).toBeNull();
    });

    it("list returns every VM it made, with its identity, in any state", async () => {
      const specs = [k.spec("a"), k.spec("b"), k.spec("c")];
      for (const s of specs) await k.h.adapter.create(s);
      const listed = await k.ours();
      expect(listed.map((vm) => vm.id).sort((x, y) => x.name.localeCompare(y.name))).toEqual(
        specs.map((s) => s.id),
      );
    });

    it("destroy removes the VM; destroying an absent VM is a no-op", async () => {
      const s = k.spec("gone");
      await k.h.adapter.create(s);
      await k.settled(s.id);
      await k.h.adapter.destroy(s.id);
      expect(await k.h.adapter.get(s.id)).toBeNull();
      expect(await k.ours()).toHaveLength(0);
      await k.h.adapter.destroy(s.id);
      await k.h.adapter.destroy({ namespace: "contract", name: "never", uid: randomUUID() });
    });

    it("destroy during provisioning leaves nothing behind and no later event revives it", async () => {
      const events: AdapterEvent[] = [];
      k.h.adapter.onChange((e) => events.push(e));
      const s = k.spec("early");
      await k.h.adapter.create(s);
      await k.h.adapter.destroy(s.id);
      for (let i = 0; i < 20; i++) await k.h.tick();
      expect(await k.h.adapter.get(s.id)).toBeNull();
      expect(events.filter((e) => e.kind === "vm" && e.id.uid === s.id.uid && e.status !== null)).toEqual([]);
    });

    it("gives every VM its own endpoint", async () => {
      const specs = [k.spec("e1"), k.spec("e2"), k.spec("e3")];
      for (const s of specs) await k.h.adapter.create(s);
      const endpoints = await Promise.all(
        specs.map(async (s) => JSON.stringify((await k.settled(s.id))?.endpoint)),
      );
      expect(new Set(endpoints).size).toBe(3);
    });

    it("list shows only VMs griddesk made", async () => {
      if (k.h.addForeignVm === undefined) return;
      const before = (await k.h.adapter.list()).length;
      await k.h.addForeignVm(`foreign-${k.run}`);
      await k.h.adapter.create(k.spec("mine"));
      const all = await k.h.adapter.list();
      expect(all).toHaveLength(before + 1);
      expect(all.every((vm) => vm.id?.uid !== undefined && vm.id.uid !== "")).toBe(true);
      expect(await k.ours()).toHaveLength(1);
    });

    it("hot-plugs a disk into a running VM by serial, once, and unplugs it", async () => {
      const s = k.spec("disk");
      await k.h.adapter.create(s);
      expect((await k.settled(s.id))?.state).toBe("running");
      if (!k.supports("diskHotplug")) {
        // Optional step (CONTRACT.md): the adapter refuses it plainly and finds nothing to unplug.
        const disk = { path: "/var/lib/griddesk/none.qcow2", serial: "gd-contract" };
        await expect(k.h.adapter.attachDisk(s.id, disk)).rejects.toMatchObject({ reason: "InvalidSpec" });
        expect(await k.h.adapter.detachDisk(s.id, disk.serial)).toBe(false);
        expect(await k.h.adapter.freezeDisk(s.id, disk.serial, "/var/lib/griddesk/next.qcow2")).toBe(false);
        return;
      }
      const disk = { path: await k.scratchDisk(), serial: "gd-contract" };
      await Promise.all([k.h.adapter.attachDisk(s.id, disk), k.h.adapter.attachDisk(s.id, disk)]);
      await k.h.adapter.attachDisk(s.id, disk);
      // Attached once: the first detach takes it away, the second finds nothing.
      expect(await k.h.adapter.detachDisk(s.id, disk.serial)).toBe(true);
      expect(await k.h.adapter.detachDisk(s.id, disk.serial)).toBe(false);
      await k.h.adapter.attachDisk(s.id, disk); // and again, as at the next logon
      expect(await k.h.adapter.detachDisk(s.id, disk.serial)).toBe(true);
    });

    it("freezes a hot-plugged disk onto an overlay the VM then runs on, once", async () => {
      if (!k.supports("diskHotplug")) return; // optional step: checked as refused above
      const s = k.spec("freeze");
      await k.h.adapter.create(s);
      expect((await k.settled(s.id))?.state).toBe("running");
      const disk = { path: await k.scratchDisk(), serial: "gd-contract" };
      await k.h.adapter.attachDisk(s.id, disk);
      const next = await k.overlayOf(disk.path);
      expect(await k.h.adapter.freezeDisk(s.id, disk.serial, next)).toBe(true);
      expect(await k.h.adapter.freezeDisk(s.id, disk.serial, next)).toBe(true); // a retry: no-op
      expect(await k.h.adapter.detachDisk(s.id, disk.serial)).toBe(true);
      expect(await k.h.adapter.freezeDisk(s.id, disk.serial, next)).toBe(false); // no such disk now
      await expect(k.h.adapter.freezeDisk(s.id, disk.serial, "relative.qcow2")).rejects.toMatchObject({
        reason: "InvalidSpec",
      });
      await k.h.afterFreeze?.(disk.path, next);
    });

    it("attaches to no VM that is not there, and refuses a malformed disk", async () => {
      if (!k.supports("diskHotplug")) return; // optional step: checked as refused above
      const nobody = { namespace: "contract", name: "nobody", uid: randomUUID() };
      const disk = { path: await k.scratchDisk(), serial: "gd-contract" };
      await expect(k.h.adapter.attachDisk(nobody, disk)).rejects.toMatchObject({ reason: "VmNotRunning" });
      expect(await k.h.adapter.detachDisk(nobody, disk.serial)).toBe(false);
      await expect(k.h.adapter.attachDisk(nobody, { ...disk, serial: "no spaces!" })).rejects.toMatchObject({
        reason: "InvalidSpec",
      });
      await expect(k.h.adapter.attachDisk(nobody, { ...disk, path: "relative.qcow2" })).rejects.toMatchObject(
        {
          reason: "InvalidSpec",
        },
      );
    });

    describeLifecycleContract(k);
  });
}
