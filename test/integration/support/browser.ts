// Real headless Chromium (Debian's, installed by hack/chromium-up.sh) driven by playwright-core,
// which downloads no browser. Flags keep Chromium from reaching for the network this machine does
// not have. What a person sees is checked from the canvas's pixels against QEMU's own screenshot
// of the domain, never from a DOM flag.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { litMask, pngPixels, screenshot } from "../libvirt-screen.js";

export function chromiumPath(): string {
  if (process.env.GRIDDESK_CHROMIUM) return process.env.GRIDDESK_CHROMIUM;
  try {
    return execFileSync("sh", ["-c", "command -v chromium"]).toString().trim();
  } catch {
    throw new Error("no chromium: run hack/chromium-up.sh (hack/test-integration.sh does)");
  }
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Where the README's screenshots go: docs/screenshots under `make screenshots`, else a temp dir. */
export function screenshotDir(): string {
  const dir = process.env.GRIDDESK_SCREENSHOT_DIR ?? mkdtempSync(path.join(tmpdir(), "griddesk-shots-"));
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The noVNC canvas's pixels as a lit mask (see litMask), read in the page. */
export async function canvasMask(
  page: Page,
): Promise<{ width: number; height: number; mask: string } | undefined> {
  // A string, run in the page: this project compiles without the DOM's types.
  return page.evaluate(`(() => {
    const canvas = document.querySelector("#screen canvas");
    if (!canvas || canvas.width === 0 || canvas.height === 0) return undefined;
    // Drawn is not enough: it must be on screen, at a size a person can see.
    const shown = canvas.getBoundingClientRect();
    if (shown.width < canvas.width / 4 || shown.height < canvas.height / 4) return undefined;
    const { data, width, height } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    let mask = "";
    for (let i = 0; i < width * height; i++)
      mask += data[i * 4] + data[i * 4 + 1] + data[i * 4 + 2] > 96 ? "1" : "0";
    return { width, height, mask };
  })()`);
}

export interface ScreenComparison {
  /** The canvas shows the test image's banner (showsBanner). */
  readonly banner: boolean;
  /** Share of pixels on which the canvas and QEMU's screenshot agree (lit or dark). */
  readonly agreement: number;
  /** Pixels lit in QEMU's screenshot: text is on screen. */
  readonly lit: number;
  readonly size: string;
}

/** Compares what the browser shows with what QEMU shows for the domain. */
export async function compareWithDomain(
  page: Page,
  domain: string,
  nsPid?: number,
): Promise<ScreenComparison | undefined> {
  const canvas = await canvasMask(page);
  if (!canvas) return undefined;
  const png = pngPixels(screenshot(domain, nsPid));
  const size = `canvas ${canvas.width}x${canvas.height}, QEMU ${png.width}x${png.height}`;
  const banner = showsBanner(canvas.width, canvas.mask);
  if (canvas.width !== png.width || canvas.height !== png.height)
    return { banner, agreement: 0, lit: 0, size };
  const qemu = litMask(png.width, png.height, (i) => [
    png.rgb[i * 3] as number,
    png.rgb[i * 3 + 1] as number,
    png.rgb[i * 3 + 2] as number,
  ]);
  let same = 0;
  let lit = 0;
  for (let i = 0; i < qemu.length; i++) {
    if (qemu[i] === canvas.mask[i]) same++;
    if (qemu[i] === "1") lit++;
  }
  return { banner, agreement: same / qemu.length, lit, size };
}

/**
 * Whether a 720x400 VGA text screen (80x25 cells of 9x16 pixels) shows the test image's banner at
 * its top: a first line of 48 '#' (every cell lit, the 49th dark) and a second line "#  …  #"
 * (lit only in its first and 48th cells). The BIOS and the kernel's boot messages never look so.
 */
export function showsBanner(width: number, mask: string): boolean {
  const cellLit = (row: number, col: number): boolean => {
    for (let y = row * 16; y < row * 16 + 16; y++)
      for (let x = col * 9; x < col * 9 + 9; x++) if (mask[y * width + x] === "1") return true;
    return false;
  };
  const cols = Array.from({ length: 48 }, (_, i) => i);
  return (
    width === 720 &&
    cols.every((col) => cellLit(0, col)) &&
    !cellLit(0, 48) &&
    cols.every((col) => cellLit(1, col) === (col === 0 || col === 47))
  );
}
