// "The screen is not blank": a domain's screenshot (virsh screenshot, PNG from QEMU) decoded
// just enough to see whether any pixel differs from black, and on how many rows (text drawn).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { inflateSync } from "node:zlib";

/** An 8-bit RGB PNG as QEMU writes it, unfiltered: width, height and 3 bytes per pixel. */
export function pngPixels(png: Buffer): { width: number; height: number; rgb: Buffer } {
  if (png.subarray(1, 4).toString("latin1") !== "PNG") throw new Error("not a PNG");
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
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
  const rgb = Buffer.alloc(stride * height);
  let prev: Buffer = Buffer.alloc(stride);
  for (let y = 0, at = 0; y < height && at + 1 + stride <= raw.length; y++, at += 1 + stride) {
    const row = unfilter(raw[at] as number, raw.subarray(at + 1, at + 1 + stride), prev, bpp);
    row.copy(rgb, y * stride);
    prev = row;
  }
  return { width, height, rgb };
}

/** How many pixel rows of the PNG hold anything that is not black. */
export function contentRows(png: Buffer): number {
  const { width, height, rgb } = pngPixels(png);
  let rows = 0;
  for (let y = 0; y < height; y++)
    if (rgb.subarray(y * width * 3, (y + 1) * width * 3).some((b) => b !== 0)) rows++;
  return rows;
}

/** One character per pixel, "1" where it is lit (not near black): a screen's text, comparable across encodings. */
export function litMask(
  width: number,
  height: number,
  pixel: (i: number) => [number, number, number],
): string {
  let out = "";
  for (let i = 0; i < width * height; i++) {
    const [r, g, b] = pixel(i);
    out += r + g + b > 96 ? "1" : "0";
  }
  return out;
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
