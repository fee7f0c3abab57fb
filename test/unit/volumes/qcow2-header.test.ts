// The backing file name read from a qcow2 header, checked against headers qemu-img itself wrote
// (kept as fixtures, so this needs no qemu-img; see qcow2-fixtures.ts).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "@jest/globals";
import { backingFileName, Qcow2HeaderError, QCOW2_HEADER_BYTES } from "../../../src/volumes/qcow2-header.js";
import { fixturePath, QCOW2_FIXTURES } from "./qcow2-fixtures.js";

describe("backingFileName", () => {
  it.each(QCOW2_FIXTURES.map((f) => [f.file, f] as const))(
    "reads what qemu-img wrote into %s",
    (_file, fixture) => {
      const header = readFileSync(fixturePath(fixture));
      expect(header.length).toBe(QCOW2_HEADER_BYTES);
      expect(backingFileName(header)).toBe(fixture.backing);
    },
  );

  it("refuses a header cut before the backing name it points to", () => {
    const overlay = QCOW2_FIXTURES.find((f) => f.backing !== undefined)!;
    const header = readFileSync(fixturePath(overlay));
    const offset = Number(header.readBigUInt64BE(8));
    expect(() => backingFileName(header.subarray(0, offset + 1))).toThrow(/past the \d+ bytes read/);
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
