// A qcow2 file's header read without qemu-img: the facts the image inspector judges (backing
// file, external data file, encryption, snapshots, feature bits, size) and a profile version's
// backing name. The header is the first bytes of the file, fixed by the qcow2 format
// (docs/interop/qcow2.txt in QEMU): big-endian, magic "QFI\xfb", then, at fixed offsets,
//   4 version, 8 backing_file_offset (u64), 16 backing_file_size, 20 cluster_bits, 24 size (u64),
//   32 crypt_method, 60 nb_snapshots; version 3 adds 72 incompatible_features (u64),
//   88 autoclear_features (u64) and 100 header_length,
// followed by header extensions (type u32, length u32, data padded to 8 bytes) up to a type 0.
// Profile versions sit on the file server, where qemu-img cannot open them, and every image is
// judged here before qemu-img opens it at all (src/volumes/image-inspector.ts).

const MAGIC = 0x514649fb;
/** Bytes that hold the header and, in every image qemu-img makes, the backing name after it. */
export const QCOW2_HEADER_BYTES = 32 * 1024;
/** The format caps a backing file name at 1023 bytes. */
const MAX_NAME = 1023;

/** Incompatible feature bits qemu knows (dirty, corrupt, external data file, compression type, extended L2). */
export const Qcow2Incompatible = {
  Dirty: 1n << 0n,
  Corrupt: 1n << 1n,
  ExternalDataFile: 1n << 2n,
  CompressionType: 1n << 3n,
  ExtendedL2: 1n << 4n,
} as const;
const KNOWN_INCOMPATIBLE = Object.values(Qcow2Incompatible).reduce((a, b) => a | b, 0n);

/** Header extension types (0 ends the list). */
export const Qcow2Extension = {
  BackingFormat: 0xe2792aca,
  FeatureNameTable: 0x6803f857,
  Bitmaps: 0x23852875,
  FullDiskEncryption: 0x0537be77,
  ExternalDataFileName: 0x44415441,
} as const;

export interface Qcow2Header {
  readonly version: 2 | 3;
  /** The backing file's name, undefined when the image stands alone. */
  readonly backingFile?: string;
  readonly clusterBits: number;
  /** The guest-visible size in bytes. */
  readonly virtualSize: bigint;
  /** 0 none, 1 AES (legacy), 2 LUKS. */
  readonly cryptMethod: number;
  readonly snapshots: number;
  readonly incompatibleFeatures: bigint;
  /** Incompatible feature bits qemu does not know: an image qemu would refuse or misread. */
  readonly unknownIncompatibleFeatures: bigint;
  /** Header extension types present, in order. */
  readonly extensions: readonly number[];
}

export class Qcow2HeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Qcow2HeaderError";
  }
}

/** True when `start` begins with the qcow2 magic. */
export const isQcow2 = (start: Buffer): boolean => start.length >= 4 && start.readUInt32BE(0) === MAGIC;

/**
 * The header of a qcow2 image whose first bytes are `start`. Throws Qcow2HeaderError for bytes
 * that are not a qcow2 header, or a header (backing name, extensions) past the bytes given.
 */
export function readQcow2Header(start: Buffer): Qcow2Header {
  const version = qcow2Version(start, 72);
  const v3 = version === 3;
  if (v3 && start.length < 104)
    throw new Qcow2HeaderError(`a version 3 header needs 104 bytes, ${start.length} read`);
  const incompatibleFeatures = v3 ? start.readBigUInt64BE(72) : 0n;
  const headerLength = v3 ? start.readUInt32BE(100) : 72;
  return {
    version,
    ...optionalBacking(start),
    clusterBits: start.readUInt32BE(20),
    virtualSize: start.readBigUInt64BE(24),
    cryptMethod: start.readUInt32BE(32),
    snapshots: start.readUInt32BE(60),
    incompatibleFeatures,
    unknownIncompatibleFeatures: incompatibleFeatures & ~KNOWN_INCOMPATIBLE,
    extensions: extensionTypes(start, headerLength),
  };
}

/**
 * The backing file named by a qcow2 image whose first bytes are `start` (undefined: it stands
 * alone). Throws Qcow2HeaderError for bytes that are not a qcow2 header, or a name past them.
 */
export function backingFileName(start: Buffer): string | undefined {
  qcow2Version(start, 20);
  return optionalBacking(start).backingFile;
}

/** The version of a qcow2 header of at least `minBytes`; Qcow2HeaderError for anything else. */
function qcow2Version(start: Buffer, minBytes: number): 2 | 3 {
  if (start.length < minBytes || !isQcow2(start))
    throw new Qcow2HeaderError("not a qcow2 image (no QFI\\xfb magic)");
  const version = start.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new Qcow2HeaderError(`unknown qcow2 version ${version}`);
  return version;
}

function optionalBacking(start: Buffer): { backingFile?: string } {
  const offset = start.readBigUInt64BE(8);
  const size = start.readUInt32BE(16);
  if (offset === 0n || size === 0) return {};
  if (size > MAX_NAME) throw new Qcow2HeaderError(`backing file name of ${size} bytes (at most ${MAX_NAME})`);
  const end = offset + BigInt(size);
  if (end > BigInt(start.length))
    throw new Qcow2HeaderError(`backing file name at ${offset}..${end}, past the ${start.length} bytes read`);
  return { backingFile: start.subarray(Number(offset), Number(end)).toString("utf8") };
}

function extensionTypes(start: Buffer, from: number): number[] {
  const types: number[] = [];
  for (let at = from; ;) {
    if (at + 8 > start.length)
      throw new Qcow2HeaderError(`header extensions run past the ${start.length} bytes read`);
    const type = start.readUInt32BE(at);
    if (type === 0) return types;
    types.push(type);
    const length = start.readUInt32BE(at + 4);
    at += 8 + Math.ceil(length / 8) * 8;
  }
}
