// The backing file name read from a qcow2 header, checked against headers qemu-img itself wrote.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "@jest/globals";
import { createEmptyDisk, createOverlay } from "../../../src/volumes/qemu-img.js";
import { backingFileName, Qcow2HeaderError, QCOW2_HEADER_BYTES } from "../../../src/volumes/qcow2-header.js";

const dir = mkdtempSync(path.join(tmpdir(), "gd-qcow2-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const start = (name: string) => readFileSync(path.join(dir, name)).subarray(0, QCOW2_HEADER_BYTES);

describe("backingFileName", () => {
  it("is undefined for a standalone image and the relative name for an overlay", async () => {
    await createEmptyDisk(path.join(dir, "v000001-e1.qcow2"), 64 * 1024 ** 2);
    await createOverlay(
      path.join(dir, "v000002-e2.qcow2"),
      { path: "v000001-e1.qcow2", format: "qcow2", virtualSize: 0 },
      64 * 1024 ** 2,
    );
    expect(backingFileName(start("v000001-e1.qcow2"))).toBeUndefined();
    expect(backingFileName(start("v000002-e2.qcow2"))).toBe("v000001-e1.qcow2");
  });

  it("refuses what is not a qcow2 header, or names a backing file past the bytes given", () => {
    expect(() => backingFileName(Buffer.from("not an image at all, no"))).toThrow(Qcow2HeaderError);
    const header = Buffer.alloc(64);
    header.writeUInt32BE(0x514649fb, 0);
    header.writeUInt32BE(3, 4);
    header.writeBigUInt64BE(60n, 8);
    header.writeUInt32BE(16, 16);
    expect(() => backingFileName(header)).toThrow(/past the 64 bytes read/);
    header.writeUInt32BE(9, 4);
    expect(() => backingFileName(header)).toThrow(/unknown qcow2 version 9/);
  });
});
