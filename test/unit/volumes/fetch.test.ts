// Fetching image sources (absolute path, file:// URL, http URL from a local server) with the
// sha256 computed on the way, and the cache's handling of a checksum mismatch.
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { systemClock } from "../../../src/hypervisors/clock.js";
import { ImageCache } from "../../../src/volumes/image-cache.js";
import { BootFiles } from "../../../src/volumes/boot-files.js";
import { fetchTo } from "../../../src/volumes/fetch.js";
import {
  checkPolicy,
  DEFAULT_FETCH_LIMITS,
  locate,
  type SourcePolicy,
} from "../../../src/volumes/source-policy.js";

const dir = mkdtempSync(path.join(tmpdir(), "griddesk-fetch-"));
const body = Buffer.from("golden image bytes ".repeat(10_000));
const sha = createHash("sha256").update(body).digest("hex");
const source = path.join(dir, "golden.img");
let server: Server;
let base = "";
/** The admin's policy for these fetches: the test's directory and the local server. */
let policy: SourcePolicy;
const within = (limits: SourcePolicy["limits"]): SourcePolicy => ({ ...policy, limits });

beforeAll(async () => {
  writeFileSync(source, body);
  server = createServer((req, res) => {
    if (req.url === "/golden.img") res.end(body);
    else if (req.url === "/elsewhere.img") res.writeHead(302, { location: "http://localhost:1/x" }).end();
    else if (req.url === "/moved.img") res.writeHead(301, { location: "/golden.img" }).end();
    else if (req.url === "/stalls.img")
      res.write(body.subarray(0, 1000)); // then nothing, ever
    else if (req.url === "/drips.img") {
      // A byte every 50 ms: never stalled, never done.
      const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write("x")), 50);
    } else if (req.url === "/endless.img") {
      // No Content-Length: only counting what arrives can stop it.
      const more = (): void => {
        if (!res.destroyed) res.write(body, () => setImmediate(more));
      };
      more();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  policy = { localRoots: [dir], urlPrefixes: [`${base}/`], limits: DEFAULT_FETCH_LIMITS };
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
    expect(await fetchTo(src(), dest, policy)).toEqual({ sha256: sha, sizeBytes: body.length });
    expect(readFileSync(dest).equals(body)).toBe(true);
  });

  it("fails ImagePullFailed (retryable) for a missing file or an HTTP error", async () => {
    for (const src of [path.join(dir, "absent.img"), `${base}/absent.img`]) {
      const err = await fetchTo(src, path.join(dir, "x"), policy).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: "ImagePullFailed", retryable: true });
    }
  });

  it("refuses a source over the size limit, by its length or by what arrives, and keeps nothing of it", async () => {
    const limits = { maxBytes: body.length - 1, stallTimeoutMs: 10_000, deadlineMs: 60_000 };
    for (const src of [source, `${base}/golden.img`, `${base}/endless.img`]) {
      const err = await fetchTo(src, path.join(dir, "big"), within(limits)).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: "ImagePullFailed", retryable: false });
      expect((err as Error).message).toContain(`larger than the fetch limit of ${body.length - 1} bytes`);
    }
  });

  it("fails a source that stops sending, at the stall timeout", async () => {
    const started = Date.now();
    const err = await fetchTo(
      `${base}/stalls.img`,
      path.join(dir, "stalled"),
      within({ maxBytes: 1024 ** 3, stallTimeoutMs: 300, deadlineMs: 60_000 }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "ImagePullFailed", retryable: true });
    expect((err as Error).message).toContain("nothing received for 300 ms");
    expect(Date.now() - started).toBeLessThan(20_000); // it ended (jest's own timeout is the bound otherwise)
  });

  it("fails a source that never stops dripping, at the deadline, however steadily bytes arrive", async () => {
    const err = await fetchTo(
      `${base}/drips.img`,
      path.join(dir, "dripped"),
      within({ maxBytes: 1024 ** 3, stallTimeoutMs: 1000, deadlineMs: 600 }),
    ).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "ImagePullFailed", retryable: true });
    expect((err as Error).message).toMatch(
      /not finished within 600 ms \(the fetch's deadline\); [1-9]\d* bytes had arrived/,
    );
  });

  it("refuses a source that is not a path or URL with InvalidSpec", () => {
    expect(() => locate("ftp://example/x")).toThrow(expect.objectContaining({ reason: "InvalidSpec" }));
  });

  it("refuses a file URL no path can have (an encoded '/') at once, with InvalidSpec, never retried", async () => {
    const bad = `file://${dir}/a%2Fgolden.img`;
    expect(() => locate(bad)).toThrow(expect.objectContaining({ reason: "InvalidSpec", retryable: false }));
    const err = await fetchTo(bad, path.join(dir, "never"), policy).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "InvalidSpec", retryable: false });
    expect((err as Error).message).toContain(`image source ${bad} is not a usable file:/// URL`);
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
      sources: policy,
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

describe("the admin's source policy", () => {
  const refused = async (src: string, p: SourcePolicy = policy): Promise<Error> => {
    const dest = path.join(dir, `refused-${Math.random()}`);
    const err = (await fetchTo(src, dest, p).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ reason: "SourceNotAllowed", retryable: false });
    expect(existsSync(dest)).toBe(false); // never opened, nothing written
    return err;
  };

  it("refuses a file outside the allowed roots, also through '..' or a symlink, naming only the source", async () => {
    const secret = path.join(tmpdir(), `griddesk-secret-${process.pid}`);
    writeFileSync(secret, "not for pool authors");
    const link = path.join(dir, "innocent.qcow2");
    symlinkSync(secret, link);
    try {
      for (const src of [secret, `file://${secret}`, path.join(dir, "..", path.basename(secret)), link]) {
        const err = await refused(src);
        expect(err.message).toContain(`${src} is not under a local root this host allows (${dir})`);
        expect(err.message).not.toContain("not for pool authors");
      }
    } finally {
      rmSync(secret, { force: true });
      rmSync(link, { force: true });
    }
  });

  it("follows a symlink that stays inside an allowed root", async () => {
    const link = path.join(dir, "alias.img");
    symlinkSync(source, link);
    expect(await fetchTo(link, path.join(dir, "via-link"), policy)).toEqual({
      sha256: sha,
      sizeBytes: body.length,
    });
  });

  it("refuses a URL outside the allowed prefixes, matching whole path segments and the exact origin", async () => {
    const narrow = { ...policy, urlPrefixes: [`${base}/gol`] };
    const err = await refused(`${base}/golden.img`, narrow);
    expect(err.message).toContain(`is not under a URL prefix this host allows (${base}/gol)`);
    const port = new URL(base).port;
    await refused(`http://localhost:${port}/golden.img`); // same server, another origin
  });

  it("checks every redirect hop: one inside the prefixes is followed, one outside is refused", async () => {
    expect(await fetchTo(`${base}/moved.img`, path.join(dir, "moved"), policy)).toEqual({
      sha256: sha,
      sizeBytes: body.length,
    });
    const err = await refused(`${base}/elsewhere.img`);
    expect(err.message).toContain("http://localhost:1/x is not under a URL prefix");
  });

  it("allows nothing until the admin names roots or prefixes, and says where they are set", async () => {
    const none = { localRoots: [], urlPrefixes: [], limits: DEFAULT_FETCH_LIMITS };
    expect((await refused(source, none)).message).toContain("--allow-source-root");
    expect((await refused(`${base}/golden.img`, none)).message).toContain("--allow-source-url-prefix");
  });

  it("refuses malformed roots and prefixes at the agent's start, naming the flag", () => {
    const bad = (p: Partial<SourcePolicy>) => () => checkPolicy({ ...policy, ...p });
    expect(bad({ localRoots: ["images"] })).toThrow(/--allow-source-root must be an absolute directory/);
    expect(bad({ urlPrefixes: ["ftp://x/"] })).toThrow(/--allow-source-url-prefix must be an http\(s\) URL/);
    expect(bad({ urlPrefixes: ["https://u:p@x/"] })).toThrow(/no query, fragment or credentials/);
    expect(bad({ limits: { maxBytes: 0, stallTimeoutMs: 1000, deadlineMs: 1000 } })).toThrow(
      /--fetch-max-bytes must be at least 1/,
    );
    expect(bad({ limits: { maxBytes: 1, stallTimeoutMs: 1000, deadlineMs: 0 } })).toThrow(
      /--fetch-deadline must be at least 1000/,
    );
  });
});

describe("BootFiles", () => {
  it("keeps a boot file under its sha256 once verified, and refuses one whose bytes differ", async () => {
    const boot = new BootFiles(path.join(dir, "boot"), policy);
    const file = await boot.ensure({ source, sha256: sha });
    expect(path.basename(file)).toBe(`${sha}-golden.img`);
    expect(readFileSync(file).equals(body)).toBe(true);
    const wrong = "0".repeat(64);
    const err = (await boot.ensure({ source, sha256: wrong }).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ reason: "ImageChecksumMismatch", retryable: false });
    expect(err.message).toContain(wrong);
    expect(err.message).not.toContain(sha); // nothing about what was read
    expect(readdirSync(path.join(dir, "boot"))).toEqual([path.basename(file)]);
  });

  it("refuses a boot file outside the allowed roots before opening it", async () => {
    const boot = new BootFiles(path.join(dir, "boot2"), { ...policy, localRoots: ["/srv/images"] });
    await expect(boot.ensure({ source, sha256: sha })).rejects.toMatchObject({ reason: "SourceNotAllowed" });
  });
});
