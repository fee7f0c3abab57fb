// The image inspector judges images from their first bytes, before qemu-img opens them: headers
// qemu-img wrote for images an attacker would craft (kept as fixtures, see qcow2-fixtures.ts) are
// refused with the reason; plain images of the declared format pass; hand-made headers cover
// what qemu-img will not write (unknown feature bits, a corrupt mark, a lying size).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { detectFormat, judgeImage } from "../../../src/volumes/image-inspector.js";
import { craftedPath, CRAFTED_IMAGES, fixturePath, QCOW2_FIXTURES } from "./qcow2-fixtures.js";

const MiB = 1024 ** 2;
const plain = readFileSync(fixturePath(QCOW2_FIXTURES[0]!));
const overlay = readFileSync(fixturePath(QCOW2_FIXTURES[1]!));

describe("judgeImage", () => {
  it.each(CRAFTED_IMAGES.map((c) => [c.file, c] as const))("refuses %s", (_file, crafted) => {
    expect(judgeImage(readFileSync(craftedPath(crafted)), 2 * MiB, { format: crafted.format })).toMatch(
      crafted.refusal,
    );
  });

  it("accepts a plain qcow2 image and a raw one, and an overlay over the backing name expected", () => {
    expect(judgeImage(plain, 200 * 1024, { format: "qcow2" })).toBeUndefined();
    expect(judgeImage(Buffer.alloc(4096), 4096, { format: "raw" })).toBeUndefined();
    expect(judgeImage(overlay, 200 * 1024, { format: "qcow2", backing: "v000001-e1.qcow2" })).toBeUndefined();
  });

  it("refuses a profile version over any other backing name than its predecessor", () => {
    expect(judgeImage(overlay, 200 * 1024, { format: "qcow2", backing: "v000000-e1.qcow2" })).toBe(
      'it names the backing file "v000001-e1.qcow2", not "v000000-e1.qcow2"',
    );
    expect(judgeImage(overlay, 200 * 1024, { format: "qcow2" })).toMatch(/must stand alone/);
  });

  it("refuses a file whose format is not the declared one", () => {
    expect(judgeImage(Buffer.alloc(4096), 4096, { format: "qcow2" })).toMatch(
      /not qcow2.*the image says qcow2/,
    );
    const vmdk = Buffer.concat([Buffer.from("KDMV"), Buffer.alloc(4092)]);
    expect(judgeImage(vmdk, 4096, { format: "qcow2" })).toBe("the file is VMDK, the image says qcow2");
    expect(judgeImage(vmdk, 4096, { format: "raw" })).toBe("the file is VMDK, the image says raw");
    expect(detectFormat(plain)).toBe("qcow2 (or qcow)");
  });

  it("refuses what qemu-img does not write: unknown incompatible bits, a corrupt mark, a bad cluster size", () => {
    const header = (edit: (b: Buffer) => void) => {
      const b = Buffer.from(plain);
      edit(b);
      return judgeImage(b, 200 * 1024, { format: "qcow2" });
    };
    expect(header((b) => b.writeBigUInt64BE(1n << 40n, 72))).toBe(
      "it sets incompatible feature bits qemu does not know (0x10000000000)",
    );
    expect(header((b) => b.writeBigUInt64BE(2n, 72))).toBe("qemu marked it corrupt");
    expect(header((b) => b.writeUInt32BE(30, 20))).toMatch(/cluster size of 2\^30 bytes/);
    expect(header((b) => b.writeUInt32BE(0xffff, 100))).toMatch(/malformed: header extensions run past/);
  });

  it("refuses a disk larger than allowed, by its header for qcow2 and its file for raw", () => {
    expect(judgeImage(plain, 200 * 1024, { format: "qcow2", maxVirtualSize: 32 * MiB })).toBe(
      `its disk of ${64 * MiB} bytes is larger than the ${32 * MiB} bytes allowed`,
    );
    expect(judgeImage(plain, 200 * 1024, { format: "qcow2", maxVirtualSize: 64 * MiB })).toBeUndefined();
    expect(judgeImage(Buffer.alloc(512), 8 * MiB, { format: "raw", maxVirtualSize: MiB })).toMatch(
      /larger than/,
    );
  });
});
