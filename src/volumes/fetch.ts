// Fetches an image source (an absolute path, a file:/// URL or an http(s) URL) into a local file
// while computing its SHA-256, in one pass: the bytes are hashed as they are written, so a large
// golden image is read once. The caller names a temporary destination and renames it when the
// digest is right (see image-cache.ts).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { AdapterError } from "../hypervisors/errors.js";

export interface Fetched {
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** Bounds on one fetch, so a source can neither fill the host's disk nor hold a pull forever. */
export interface FetchLimits {
  /** A source larger than this is refused (its partial copy removed by the caller). */
  readonly maxBytes: number;
  /** A source that sends nothing for this long (from the start, or between chunks) fails. */
  readonly stallTimeoutMs: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { maxBytes: 256 * 1024 ** 3, stallTimeoutMs: 60_000 };

export type SourceLocation =
  { readonly kind: "file"; readonly path: string } | { readonly kind: "http"; readonly url: string };

/** Where a source points; throws AdapterError InvalidSpec for anything else. */
export function locate(source: string): SourceLocation {
  if (source.startsWith("/")) return { kind: "file", path: source };
  if (source.startsWith("file:///")) return { kind: "file", path: fileURLToPath(source) };
  if (/^https?:\/\//.test(source)) return { kind: "http", url: source };
  throw new AdapterError(
    "InvalidSpec",
    `image source must be an absolute path, file:/// or http(s) URL: ${source}`,
  );
}

async function open(
  loc: SourceLocation,
  signal: AbortSignal,
  limits: FetchLimits,
  tooLarge: () => AdapterError,
): Promise<Readable> {
  if (loc.kind === "file") {
    if ((await stat(loc.path)).size > limits.maxBytes) throw tooLarge();
    return createReadStream(loc.path, { highWaterMark: 1024 * 1024 });
  }
  const res = await fetch(loc.url, { signal });
  if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  const length = Number(res.headers.get("content-length") ?? NaN);
  if (length > limits.maxBytes) {
    await res.body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  return Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
}

/**
 * Copies `source` to `dest` (created 0644), hashing on the way, within `limits`. Rejects
 * AdapterError ImagePullFailed: retryable for a source that failed or stalled, not for one over
 * the size limit.
 */
export async function fetchTo(
  source: string,
  dest: string,
  signal?: AbortSignal,
  limits: FetchLimits = DEFAULT_FETCH_LIMITS,
): Promise<Fetched> {
  const loc = locate(source);
  const hash = createHash("sha256");
  let sizeBytes = 0;
  const stop = new AbortController();
  const onAbort = () => stop.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const stalled = () =>
    stop.abort(
      new AdapterError(
        "ImagePullFailed",
        `cannot fetch ${source}: nothing received for ${limits.stallTimeoutMs} ms (the fetch's stall timeout)`,
      ),
    );
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(stalled, limits.stallTimeoutMs);
  };
  const tooLarge = () =>
    new AdapterError(
      "ImagePullFailed",
      `cannot fetch ${source}: it is larger than the fetch limit of ${limits.maxBytes} bytes`,
      { retryable: false },
    );
  try {
    arm();
    await pipeline(
      await open(loc, stop.signal, limits, tooLarge),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          arm();
          sizeBytes += chunk.length;
          if (sizeBytes > limits.maxBytes) throw tooLarge();
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(dest, { mode: 0o644, flush: true }),
      { signal: stop.signal },
    );
  } catch (err) {
    const reason: unknown = stop.signal.aborted ? stop.signal.reason : undefined;
    if (reason instanceof AdapterError) throw reason;
    if (err instanceof AdapterError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new AdapterError("ImagePullFailed", `cannot fetch ${source}: ${why}`, { cause: err });
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
  return { sha256: hash.digest("hex"), sizeBytes };
}
