// The contract's cases for images, hints, notices, restarts and closing (see contract.ts).
import { randomUUID } from "node:crypto";
import { expect, it } from "@jest/globals";
import { AdapterError } from "../../../src/hypervisors/errors.js";
import type { ContractKit } from "./contract-kit.js";

/** Registers its cases in the caller's describe block, which owns set-up and tear-down. */
export function describeLifecycleContract(k: ContractKit): void {
  it("probe reports the host's facts", async () => {
    const facts = await k.h.adapter.probe();
    for (const n of [facts.cores, facts.memoryBytes, facts.localStorageBytes]) expect(n).toBeGreaterThan(0);
    for (const s of [facts.cpuModel, facts.cpuVendor, facts.hypervisorVersion, facts.adapterVersion]) {
      expect(s).not.toBe("");
    }
  });

  it("concurrent prepareImage calls share one pull; a later call finds it cached", async () => {
    if (!k.supports("imageCache")) {
      // Optional step (CONTRACT.md): nothing to prepare, and no cache of griddesk's to list.
      expect(await k.h.adapter.prepareImage(k.h.image)).toMatchObject({
        sha256: k.h.image.sha256,
        state: "ready",
      });
      expect(await k.h.adapter.listImages()).toEqual([]);
      return;
    }
    const before = k.h.pullCount?.() ?? 0;
    const all = await k.drive(Promise.all([1, 2, 3, 4, 5].map(() => k.h.adapter.prepareImage(k.h.image))));
    for (const status of all) expect(status).toMatchObject({ sha256: k.h.image.sha256, state: "ready" });
    expect((await k.h.adapter.listImages()).filter((i) => i.sha256 === k.h.image.sha256)).toHaveLength(1);
    expect((await k.h.adapter.prepareImage(k.h.image)).state).toBe("ready");
    if (k.h.pullCount !== undefined) expect(k.h.pullCount() - before).toBeLessThanOrEqual(1);
  });

  it("prepareImage with an aborted signal fails Aborted, retryable", async () => {
    const controller = new AbortController();
    controller.abort();
    const err = await k.h.adapter.prepareImage(k.h.image, controller.signal).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterError);
    expect(err).toMatchObject({ reason: "Aborted", retryable: true });
  });

  it("onChange hints when a VM leaves provisioning; unsubscribe stops the hints", async () => {
    const seen: string[] = [];
    const off = k.h.adapter.onChange((e) => e.kind === "vm" && seen.push(e.id.uid));
    const s = k.spec("hint");
    const first = await k.h.adapter.create(s);
    await k.settled(s.id);
    if (first.state === "provisioning") expect(seen).toContain(s.id.uid);
    off();
    const later = k.spec("unheard");
    await k.h.adapter.create(later);
    await k.settled(later.id);
    expect(seen).not.toContain(later.id.uid);
  });

  it("refuses malformed specs with InvalidSpec, not retryable", async () => {
    for (const bad of [
      k.spec("bad", { cpuMilli: 0 }),
      k.spec("bad", { image: { ...k.h.image, sha256: "abc" } }),
    ]) {
      const err = await k.h.adapter.create(bad).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: "InvalidSpec", retryable: false });
    }
    // A console password no VNC server takes: refused by every adapter, and never quoted.
    const err = await k.h.adapter
      .create(k.spec("bad", { consolePassword: "n0t okay!" }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "InvalidSpec", retryable: false });
    expect(String((err as Error).message)).not.toContain("n0t okay!");
  });

  it("notify is false for an absent VM and a boolean for a running one", async () => {
    expect(await k.h.adapter.notify({ namespace: "contract", name: "x", uid: randomUUID() }, "hi")).toBe(
      false,
    );
    const s = k.spec("note");
    await k.h.adapter.create(s);
    await k.settled(s.id);
    expect(typeof (await k.h.adapter.notify(s.id, "Maintenance at 18:00"))).toBe("boolean");
  });

  it("after a restart the new adapter lists what the old one made (orphans can be found)", async () => {
    if (k.h.restart === undefined) return;
    const s = k.spec("survivor");
    await k.h.adapter.create(s);
    const fresh = await k.h.restart();
    expect((await fresh.list()).map((vm) => vm.id)).toContainEqual(s.id);
    expect((await k.settled(s.id))?.state).toBe("running");
  });

  it("a closed adapter refuses calls with AdapterClosed; close is idempotent", async () => {
    await k.h.adapter.close();
    await expect(k.h.adapter.list()).rejects.toMatchObject({ reason: "AdapterClosed", retryable: false });
    await k.h.adapter.close();
  });
}
