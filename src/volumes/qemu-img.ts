// qemu-img, the one tool that reads and makes disk images: what an image is (format, virtual
// size, backing file) and a copy-on-write overlay over a golden image.
import { CommandError, runCommand } from "./command.js";

export interface DiskInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly backingFile?: string;
}

const QEMU_IMG = "qemu-img";

/**
 * What `qemu-img info` may use on one image: 1 GiB of address space and 30 s of CPU (OpenStack's
 * limits for the same call), so a crafted image cannot make it eat the host.
 */
const INFO_LIMITS = ["--as=1073741824", "--cpu=30"];

/**
 * `qemu-img info -f FORMAT` of a file, under INFO_LIMITS: the format is given, never guessed
 * (an untrusted file must not choose how it is read); -U reads it even while a VM has it open.
 * Untrusted images pass the inspector (image-inspector.ts) first.
 */
export async function diskInfo(file: string, format: "qcow2" | "raw"): Promise<DiskInfo> {
  const args = ["info", "-f", format, "-U", "--output=json", file];
  const out = await runCommand("prlimit", [...INFO_LIMITS, "--", QEMU_IMG, ...args]);
  const info = JSON.parse(out) as { format: string; "virtual-size": number; "backing-filename"?: string };
  return {
    format: info.format,
    virtualSize: info["virtual-size"],
    ...(info["backing-filename"] !== undefined ? { backingFile: info["backing-filename"] } : {}),
  };
}

/**
 * `qemu-img create -f qcow2 -b <backing> -F <format> <file> <size>`: an overlay that reads the
 * backing image and keeps its own writes. `sizeBytes` below the backing image's size is raised
 * to it (a smaller overlay would cut the golden disk off). A relative backing path is resolved
 * against the overlay's own directory, so such a pair can be copied elsewhere and still open.
 */
export async function createOverlay(
  file: string,
  backing: { readonly path: string; readonly format: string; readonly virtualSize: number },
  sizeBytes: number,
  opts: QcowOptions = {},
): Promise<void> {
  const size = Math.max(sizeBytes, backing.virtualSize);
  await runCommand(QEMU_IMG, [
    "create",
    "-q",
    "-f",
    "qcow2",
    ...clusterOption(opts),
    "-b",
    backing.path,
    "-F",
    backing.format,
    file,
    String(size),
  ]);
}

/** An empty qcow2 disk of `sizeBytes` (a user's first profile disk). */
export async function createEmptyDisk(
  file: string,
  sizeBytes: number,
  opts: QcowOptions = {},
): Promise<void> {
  await runCommand(QEMU_IMG, [
    "create",
    "-q",
    "-f",
    "qcow2",
    ...clusterOption(opts),
    file,
    String(sizeBytes),
  ]);
}

export interface QcowOptions {
  /**
   * qcow2's cluster size (default 64 KiB). Each image's own metadata takes about five clusters
   * (header, L1, refcount table and block, an L2 table), and a write allocates whole clusters:
   * smaller clusters make a small overlay's file closer to what was written in it.
   */
  readonly clusterSize?: number;
}

const clusterOption = (opts: QcowOptions): string[] =>
  opts.clusterSize ? ["-o", `cluster_size=${opts.clusterSize}`] : [];

/** `qemu-img convert` of an image and its whole backing chain into one standalone qcow2 file. */
export async function flattenImage(source: string, dest: string, opts: QcowOptions = {}): Promise<void> {
  await runCommand(QEMU_IMG, ["convert", "-q", "-O", "qcow2", ...clusterOption(opts), source, dest], {
    timeoutMs: 30 * 60_000,
  });
}

/**
 * Bytes of guest data an image holds, its backing chain included (`qemu-img map`: the extents
 * that hold data; unwritten and zero extents count nothing). What a profile uses of its quota.
 */
export async function allocatedBytes(file: string): Promise<number> {
  const out = await runCommand(QEMU_IMG, ["map", "-U", "--output=json", file], { timeoutMs: 10 * 60_000 });
  const extents = JSON.parse(out) as { length: number; data: boolean; zero: boolean }[];
  return extents.reduce((sum, e) => (e.data && !e.zero ? sum + e.length : sum), 0);
}

/**
 * `qemu-img check`: resolves for a usable image (exit 0, or 3: leaked clusters only, which
 * waste space but lose nothing); rejects CommandError for corruption or an unreadable file.
 */
export async function checkImage(file: string): Promise<void> {
  try {
    await runCommand(QEMU_IMG, ["check", "-q", "-f", "qcow2", file]);
  } catch (err) {
    if (err instanceof CommandError && err.code === 3) return;
    throw err;
  }
}
