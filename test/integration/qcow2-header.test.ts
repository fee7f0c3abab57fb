// The unit tests read qcow2 headers from fixtures (test/unit/volumes/qcow2-fixtures.ts), so they
// need no qemu-img. Here the machine's real qemu-img makes the same images through the product's
// own calls: the parser reads the fresh headers right, and the kept fixtures still say what a
// fresh qemu-img writes. GRIDDESK_WRITE_QCOW2_FIXTURES=1 rewrites the fixtures from this run.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { runCommand } from "../../src/volumes/command.js";
import { judgeImage } from "../../src/volumes/image-inspector.js";
import { createEmptyDisk, createOverlay } from "../../src/volumes/qemu-img.js";
import { backingFileName, QCOW2_HEADER_BYTES } from "../../src/volumes/qcow2-header.js";
import { craftedPath, CRAFTED_IMAGES, fixturePath, QCOW2_FIXTURES } from "../unit/volumes/qcow2-fixtures.js";

const dir = mkdtempSync(path.join(tmpdir(), "gd-qcow2-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const SIZE = 64 * 1024 ** 2;

describe("qcow2 headers made by the real qemu-img", () => {
  it("parse to the backing names given, as the kept fixtures do", async () => {
    for (const f of QCOW2_FIXTURES) {
      const file = path.join(dir, f.file);
      const opts = f.clusterSize ? { clusterSize: f.clusterSize } : {};
      if (f.backing)
        await createOverlay(file, { path: f.backing, format: "qcow2", virtualSize: 0 }, SIZE, opts);
      else await createEmptyDisk(file, SIZE, opts);
      const fresh = readFileSync(file).subarray(0, QCOW2_HEADER_BYTES);
      expect(fresh.length).toBe(QCOW2_HEADER_BYTES);
      expect(backingFileName(fresh)).toBe(f.backing);
      if (process.env.GRIDDESK_WRITE_QCOW2_FIXTURES === "1") writeFileSync(fixturePath(f), fresh);
      const kept = readFileSync(fixturePath(f));
      // Same version, backing offset and length, cluster bits and size as today's qemu-img writes.
      expect(kept.subarray(0, 32).toString("hex")).toBe(fresh.subarray(0, 32).toString("hex"));
      expect(backingFileName(kept)).toBe(backingFileName(fresh));
    }
  });

  it("crafted by an attacker are refused by the inspector, as their kept fixtures are", async () => {
    for (const c of CRAFTED_IMAGES) {
      const file = path.join(dir, c.file);
      for (const args of c.commands(file)) await runCommand("qemu-img", args);
      const fresh = readFileSync(file).subarray(0, QCOW2_HEADER_BYTES);
      if (process.env.GRIDDESK_WRITE_QCOW2_FIXTURES === "1") writeFileSync(craftedPath(c), fresh);
      const kept = readFileSync(craftedPath(c));
      expect({ file: c.file, why: judgeImage(fresh, 2 * 1024 ** 2, { format: c.format }) }).toEqual({
        file: c.file,
        why: expect.stringMatching(c.refusal),
      });
      // The kept header says the same: version, cluster bits and size as today's (the backing
      // name's length follows the scratch directory's), and the inspector's verdict.
      const facts = (b: Buffer) => [b.subarray(0, 8), b.subarray(20, 32)].map((x) => x.toString("hex"));
      expect(facts(kept)).toEqual(facts(fresh));
      expect(judgeImage(kept, 2 * 1024 ** 2, { format: c.format })).toMatch(c.refusal);
    }
  });
});
