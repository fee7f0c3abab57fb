// qemu-img, the one tool that reads and makes disk images: what an image is (format, virtual
// size, backing file) and a copy-on-write overlay over a golden image.
import { runCommand } from "./command.js";

export interface DiskInfo {
  readonly format: string;
  readonly virtualSize: number;
  readonly backingFile?: string;
}

const QEMU_IMG = "qemu-img";

/** `qemu-img info` of a file; -U reads it even while a VM has it open. */
export async function diskInfo(file: string): Promise<DiskInfo> {
  const out = await runCommand(QEMU_IMG, ["info", "-U", "--output=json", file]);
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
 * to it (a smaller overlay would cut the golden disk off).
 */
export async function createOverlay(
  file: string,
  backing: { readonly path: string; readonly format: string; readonly virtualSize: number },
  sizeBytes: number,
): Promise<void> {
  const size = Math.max(sizeBytes, backing.virtualSize);
  await runCommand(QEMU_IMG, [
    "create",
    "-q",
    "-f",
    "qcow2",
    "-b",
    backing.path,
    "-F",
    backing.format,
    file,
    String(size),
  ]);
}
