// The one fact of a qcow2 file read without qemu-img: its backing file's name, from the header.
// A profile's versions sit on the file server, where qemu-img cannot open them (its ssh driver
// would need its own credentials and host-key setup); the header is the first bytes of the file,
// fixed by the qcow2 format (docs/interop/qcow2.txt in QEMU): big-endian, magic "QFI\xfb",
// version at 4, backing_file_offset (u64) at 8 and backing_file_size (u32) at 16.

const MAGIC = 0x514649fb;
/** Bytes that hold the header and, in every image qemu-img makes, the backing name after it. */
export const QCOW2_HEADER_BYTES = 32 * 1024;
/** The format caps a backing file name at 1023 bytes. */
const MAX_NAME = 1023;

export class Qcow2HeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "Qcow2HeaderError";
  }
}

/**
 * The backing file named by a qcow2 image whose first bytes are `start` (undefined: it stands
 * alone). Throws Qcow2HeaderError for bytes that are not a qcow2 header, or a name past them.
 */
export function backingFileName(start: Buffer): string | undefined {
  if (start.length < 20 || start.readUInt32BE(0) !== MAGIC)
    throw new Qcow2HeaderError("not a qcow2 image (no QFI\\xfb magic)");
  const version = start.readUInt32BE(4);
  if (version !== 2 && version !== 3) throw new Qcow2HeaderError(`unknown qcow2 version ${version}`);
  const offset = start.readBigUInt64BE(8);
  const size = start.readUInt32BE(16);
  if (offset === 0n || size === 0) return undefined;
  if (size > MAX_NAME) throw new Qcow2HeaderError(`backing file name of ${size} bytes (at most ${MAX_NAME})`);
  const end = offset + BigInt(size);
  if (end > BigInt(start.length))
    throw new Qcow2HeaderError(`backing file name at ${offset}..${end}, past the ${start.length} bytes read`);
  return start.subarray(Number(offset), Number(end)).toString("utf8");
}
