// Fetching image sources (absolute path, file:// URL, http URL from a local server) with the
// sha256 computed on the way, and the cache's handling of a checksum mismatch.
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { systemClock } from "../../../src/hypervisors/clock.js";
import { ImageCache } from "../../../src/volumes/image-cache.js";
import { fetchTo, locate } from "../../../src/volumes/fetch.js";

const dir = mkdtempSync(path.join(tmpdir(), "griddesk-fetch-"));
const body = Buffer.from("golden image bytes ".repeat(10_000));
const sha = createHash("sha256").update(body).digest("hex");
const source = path.join(dir, "golden.img");
let server: Server;
let base = "";

beforeAll(async () => {
  writeFileSync(source, body);
  server = createServer((req, res) => {
    if (req.url === "/golden.img") res.end(body);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("fetchTo", () => {
  it.each([
    ["an absolute path", () => source],
    ["a file:// URL", () => `file://${source}`],
    ["an http URL", () => `${base}/golden.img`],
  ])("copies %s and reports its sha256 and size", async (_, src) => {
    const dest = path.join(dir, `copy-${Math.random()}`);
    expect(await fetchTo(src(), dest)).toEqual({ sha256: sha, sizeBytes: body.length });
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it("fails ImagePullFailed (retryable) for a missing file or an HTTP error", async () => {
    for (const src of [path.join(dir, "absent.img"), `${base}/absent.img`]) {
      const err = await fetchTo(src, path.join(dir, "x")).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: "ImagePullFailed", retryable: true });
    }
  });

  it("refuses a source that is not a path or URL with InvalidSpec", () => {
    expect(() => locate("ftp://example/x")).toThrow(expect.objectContaining({ reason: "InvalidSpec" }));
  });
});

describe("ImageCache on a checksum mismatch", () => {
  it("fails every waiter with ImageChecksumMismatch from one fetch, leaves nothing behind, lists it failed", async () => {
    const cacheDir = path.join(dir, "images");
    const cache = new ImageCache({
      dir: cacheDir,
      clock: systemClock,
      minFreeBytes: 0,
      retryAfterMs: 60_000,
      inUse: async () => new Set(),
    });
    const ref = { source, sha256: "0".repeat(64), format: "qcow2" as const };
    const results = await Promise.allSettled([1, 2, 3].map(() => cache.ensure(ref)));
    for (const r of results)
      expect(r).toMatchObject({
        status: "rejected",
        reason: { reason: "ImageChecksumMismatch", retryable: false },
      });
    expect(cache.pullsStarted).toBe(1);
    expect(existsSync(cacheDir) ? readdirSync(cacheDir) : []).toEqual([]);
    expect(await cache.list()).toEqual([
      expect.objectContaining({ state: "failed", reason: "ImageChecksumMismatch" }),
    ]);
    await expect(cache.ensure(ref)).rejects.toMatchObject({ reason: "ImageChecksumMismatch" });
    expect(cache.pullsStarted).toBe(1); // remembered for retryAfterMs, not fetched again
  });
});
