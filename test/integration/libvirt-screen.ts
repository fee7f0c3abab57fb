// "The screen is not blank": a domain's screenshot (virsh screenshot, PNG from QEMU) decoded
// just enough to see whether any pixel differs from black, and on how many rows (text drawn).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inflateSync } from "node:zlib";

/** How many pixel rows of the PNG hold anything that is not black (row filter bytes aside). */
export function contentRows(png: Buffer): number {
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
  const bpp = 3; // QEMU writes 8-bit RGB
  const stride = width * bpp;
  let prev: Buffer = Buffer.alloc(stride);
  let rows = 0;
  for (let at = 0; at + 1 + stride <= raw.length; at += 1 + stride) {
    const row = unfilter(raw[at] as number, raw.subarray(at + 1, at + 1 + stride), prev, bpp);
    if (row.some((b) => b !== 0)) rows++;
    prev = row;
  }
  return rows;
}

/** Undoes one row's PNG filter (None, Sub, Up, Average, Paeth) given the row above, unfiltered. */
function unfilter(type: number, line: Buffer, prev: Buffer, bpp: number): Buffer {
  const out = Buffer.alloc(line.length);
  for (let i = 0; i < line.length; i++) {
    const a = i >= bpp ? (out[i - bpp] as number) : 0;
    const b = prev[i] as number;
    const c = i >= bpp ? (prev[i - bpp] as number) : 0;
    const p = a + b - c;
    const [pa, pb, pc] = [Math.abs(p - a), Math.abs(p - b), Math.abs(p - c)];
    const predictor = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][type] ?? 0;
    out[i] = ((line[i] as number) + predictor) & 0xff;
  }
  return out;
}

/** True when the PNG has a pixel that is not black. */
export const pngHasContent = (png: Buffer): boolean => contentRows(png) > 0;

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
