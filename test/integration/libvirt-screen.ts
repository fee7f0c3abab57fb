// "The screen is not blank": a domain's screenshot (virsh screenshot, PNG from QEMU) decoded
// just enough to see whether any pixel differs from black.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inflateSync } from "node:zlib";

/** True when the PNG has a pixel that is not black (any non-zero byte besides row filter bytes). */
export function pngHasContent(png: Buffer): boolean {
  if (png.subarray(1, 4).toString("latin1") !== "PNG") throw new Error("not a PNG");
  const width = png.readUInt32BE(16);
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length;) {
    const length = png.readUInt32BE(at);
    if (png.subarray(at + 4, at + 8).toString("latin1") === "IDAT")
      idat.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = 1 + width * 3;
  for (let i = 0; i < raw.length; i++) if (i % stride !== 0 && raw[i] !== 0) return true;
  return false;
}

/** The domain's screen as PNG bytes. */
export function screenshot(domain: string, nsPid?: number): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), "griddesk-shot-"));
  const file = path.join(dir, "screen.png");
  try {
    const argv = ["-q", "-c", "qemu:///system", "screenshot", domain, file];
    if (nsPid) execFileSync("nsenter", ["-t", String(nsPid), "-m", "--", "virsh", ...argv]);
    else execFileSync("virsh", argv);
    return readFileSync(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
