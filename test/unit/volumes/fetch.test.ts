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
    else if (req.url === "/stalls.img")
      res.write(body.subarray(0, 1000)); // then nothing, ever
    else if (req.url === "/endless.img") {
      // No Content-Length: only counting what arrives can stop it.
      const more = (): void => {
        if (!res.destroyed) res.write(body, () => setImmediate(more));
      };
      more();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections(); // keep-alive sockets of the fetches above, and the stalled one
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

  it("refuses a source over the size limit, by its length or by what arrives, and keeps nothing of it", async () => {
    const limits = { maxBytes: body.length - 1, stallTimeoutMs: 10_000 };
    for (const src of [source, `${base}/golden.img`, `${base}/endless.img`]) {
      const err = await fetchTo(src, path.join(dir, "big"), undefined, limits).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: "ImagePullFailed", retryable: false });
      expect((err as Error).message).toContain(`larger than the fetch limit of ${body.length - 1} bytes`);
    }
  });

  it("fails a source that stops sending, at the stall timeout", async () => {
    const started = Date.now();
    const err = await fetchTo(`${base}/stalls.img`, path.join(dir, "stalled"), undefined, {
      maxBytes: 1024 ** 3,
      stallTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "ImagePullFailed", retryable: true });
    expect((err as Error).message).toContain("nothing received for 300 ms");
    expect(Date.now() - started).toBeLessThan(20_000); // it ended (jest's own timeout is the bound otherwise)
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
    // It says which digest was expected, and nothing about what was read.
    const failure = await cache.ensure(ref).catch((e: Error) => e.message);
    expect(failure).toContain("0".repeat(64));
    expect(failure).not.toContain(sha);
  });
});
