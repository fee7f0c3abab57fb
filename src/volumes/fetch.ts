// Fetches an image source (an absolute path, a file:/// URL or an http(s) URL) into a local file
// while computing its SHA-256, in one pass: the bytes are hashed as they are written, so a large
// golden image is read once. The caller names a temporary destination and renames it when the
// digest is right (see image-cache.ts).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { AdapterError } from "../hypervisors/errors.js";

export interface Fetched {
  readonly sha256: string;
  readonly sizeBytes: number;
}

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

async function open(loc: SourceLocation, signal?: AbortSignal): Promise<Readable> {
  if (loc.kind === "file") return createReadStream(loc.path, { highWaterMark: 1024 * 1024 });
  const res = await fetch(loc.url, { signal: signal ?? null });
  if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status} ${res.statusText}`);
  return Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
}

/** Copies `source` to `dest` (created 0644), hashing on the way. Rejects AdapterError ImagePullFailed. */
export async function fetchTo(source: string, dest: string, signal?: AbortSignal): Promise<Fetched> {
  const loc = locate(source);
  const hash = createHash("sha256");
  let sizeBytes = 0;
  try {
    await pipeline(
      await open(loc, signal),
      async function* (chunks: AsyncIterable<Buffer>) {
        for await (const chunk of chunks) {
          hash.update(chunk);
          sizeBytes += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(dest, { mode: 0o644, flush: true }),
      ...(signal ? [{ signal }] : []),
    );
  } catch (err) {
    if (err instanceof AdapterError) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new AdapterError("ImagePullFailed", `cannot fetch ${source}: ${why}`, { cause: err });
  }
  return { sha256: hash.digest("hex"), sizeBytes };
}
