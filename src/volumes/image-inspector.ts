// The image inspector: judges a disk image from its first bytes, in-process, before qemu-img or
// QEMU opens it at all. qemu-img runs as root and follows what an image's header names (a
// backing file, an external data file) to any file on the host; an image that names one is
// refused here, so qemu-img never sees it. The class of OpenStack's CVE-2024-32498 (arbitrary
// file access through a qcow2 external data file), fixed the same way: a format inspector
// first, then `qemu-img info -f FORMAT` under resource limits (qemu-img.ts).
import { open } from "node:fs/promises";
import {
  isQcow2,
  Qcow2Extension,
  Qcow2HeaderError,
  Qcow2Incompatible,
  QCOW2_HEADER_BYTES,
  readQcow2Header,
  type Qcow2Header,
} from "./qcow2-header.js";

export type DiskFormat = "qcow2" | "raw";

export interface ImageExpectation {
  /** The format the image declares (a pool's `spec.image.format`). */
  readonly format: DiskFormat;
  /**
   * The backing file it may name: none (a golden image, the first version of a profile), or
   * exactly this name (a profile version over its predecessor).
   */
  readonly backing?: string;
  /** The largest guest-visible size allowed, in bytes. */
  readonly maxVirtualSize?: number;
}

/** Signatures of formats qemu would take a file for when it is not told the format. */
const SIGNATURES: readonly { name: string; offset: number; bytes: Buffer }[] = [
  { name: "qcow2 (or qcow)", offset: 0, bytes: Buffer.from([0x51, 0x46, 0x49, 0xfb]) },
  { name: "QED", offset: 0, bytes: Buffer.from("QED\0", "latin1") },
  { name: "VMDK", offset: 0, bytes: Buffer.from("KDMV", "latin1") },
  { name: "VMDK descriptor", offset: 0, bytes: Buffer.from("# Disk DescriptorFile", "latin1") },
  { name: "VHDX", offset: 0, bytes: Buffer.from("vhdxfile", "latin1") },
  { name: "VHD", offset: 0, bytes: Buffer.from("conectix", "latin1") },
  { name: "VDI", offset: 64, bytes: Buffer.from([0x7f, 0x10, 0xda, 0xbe]) },
  { name: "LUKS", offset: 0, bytes: Buffer.from([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]) },
  { name: "parallels", offset: 0, bytes: Buffer.from("WithoutFreeSpace", "latin1") },
];

/** The image format whose signature `start` carries, if any. */
export function detectFormat(start: Buffer): string | undefined {
  return SIGNATURES.find((s) => start.subarray(s.offset, s.offset + s.bytes.length).equals(s.bytes))?.name;
}

/**
 * Why an image whose first bytes are `start` (the whole file is `fileSize` bytes) is not a plain
 * image of the expected kind; undefined when it is. Pure: the decision, without the reading.
 */
export function judgeImage(start: Buffer, fileSize: number, want: ImageExpectation): string | undefined {
  const seen = detectFormat(start);
  if (want.format === "raw") {
    if (seen !== undefined) return `the file is ${seen}, the image says raw`;
    return tooLarge(BigInt(fileSize), want);
  }
  if (!isQcow2(start)) return `the file is ${seen ?? "not qcow2 (no QFI\\xfb magic)"}, the image says qcow2`;
  let header: Qcow2Header;
  try {
    header = readQcow2Header(start);
  } catch (err) {
    if (err instanceof Qcow2HeaderError) return `its qcow2 header is malformed: ${err.message}`;
    throw err;
  }
  return qcow2Refusal(header, want);
}

function qcow2Refusal(h: Qcow2Header, want: ImageExpectation): string | undefined {
  if (
    h.incompatibleFeatures & Qcow2Incompatible.ExternalDataFile ||
    h.extensions.includes(Qcow2Extension.ExternalDataFileName)
  )
    return "it keeps its data in an external data file (a file on the host it would read)";
  if (h.backingFile !== undefined && h.backingFile !== want.backing)
    return want.backing === undefined
      ? `it names a backing file (${JSON.stringify(h.backingFile)}), and this image must stand alone`
      : `it names the backing file ${JSON.stringify(h.backingFile)}, not ${JSON.stringify(want.backing)}`;
  if (h.cryptMethod !== 0 || h.extensions.includes(Qcow2Extension.FullDiskEncryption))
    return "it is encrypted";
  if (h.snapshots > 0) return `it holds ${h.snapshots} internal snapshot(s)`;
  if (h.incompatibleFeatures & Qcow2Incompatible.Corrupt) return "qemu marked it corrupt";
  if (h.unknownIncompatibleFeatures !== 0n)
    return `it sets incompatible feature bits qemu does not know (0x${h.unknownIncompatibleFeatures.toString(16)})`;
  if (h.clusterBits < 9 || h.clusterBits > 21)
    return `its cluster size of 2^${h.clusterBits} bytes is out of qcow2's range`;
  return tooLarge(h.virtualSize, want);
}

function tooLarge(virtualSize: bigint, want: ImageExpectation): string | undefined {
  if (want.maxVirtualSize !== undefined && virtualSize > BigInt(want.maxVirtualSize))
    return `its disk of ${virtualSize} bytes is larger than the ${want.maxVirtualSize} bytes allowed`;
  return undefined;
}

export class ImageRefusedError extends Error {
  override readonly name = "ImageRefusedError";
  constructor(
    readonly file: string,
    readonly why: string,
  ) {
    super(`refused before it was opened: ${why}`);
  }
}

/** Reads `file`'s first bytes and throws ImageRefusedError unless judgeImage accepts them. */
export async function inspectImage(file: string, want: ImageExpectation): Promise<void> {
  const handle = await open(file, "r");
  try {
    const start = Buffer.alloc(QCOW2_HEADER_BYTES);
    const { bytesRead } = await handle.read(start, 0, start.length, 0);
    const why = judgeImage(start.subarray(0, bytesRead), (await handle.stat()).size, want);
    if (why !== undefined) throw new ImageRefusedError(file, why);
  } finally {
    await handle.close();
  }
}
