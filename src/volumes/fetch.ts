// Fetches an image source (an absolute path, a file:/// URL or an http(s) URL) into a local file
// while computing its SHA-256, in one pass: the bytes are hashed as they are written, so a large
// golden image is read once. The caller names a temporary destination and renames it when the
// digest is right (see image-cache.ts).
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AdapterError } from "../hypervisors/errors.js";
import { resolveSource, type SourcePolicy } from "./source-policy.js";

export interface Fetched {
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** Redirects an http source may take; each hop is checked against the policy again. */
const MAX_REDIRECTS = 5;

async function open(
  source: string,
  policy: SourcePolicy,
  signal: AbortSignal,
  tooLarge: () => AdapterError,
): Promise<Readable> {
  const loc = await resolveSource(policy, source);
  if (loc.kind === "file") {
    if ((await stat(loc.path)).size > policy.limits.maxBytes) throw tooLarge();
    return createReadStream(loc.path, { highWaterMark: 1024 * 1024 });
  }
  let url = loc.url;
  for (let hops = 0; ; hops++) {
    // Redirects are followed by hand: fetch would follow one to any address, past the policy.
    const res = await fetch(url, { signal, redirect: "manual" });
    const next = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && next !== null) {
      await res.body?.cancel().catch(() => undefined);
      if (hops >= MAX_REDIRECTS) throw new Error(`more than ${MAX_REDIRECTS} redirects`);
      const target = new URL(next, url).href;
      if (!/^https?:\/\//.test(target)) throw new Error(`redirected to ${target}, which is not http(s)`);
      await resolveSource(policy, target); // SourceNotAllowed unless the admin allows it too
      url = target;
      continue;
    }
    if (!res.ok || res.body === null) throw new Error(`HTTP ${res.status} ${res.statusText}`);
    const length = Number(res.headers.get("content-length") ?? NaN);
    if (length > policy.limits.maxBytes) {
      await res.body.cancel().catch(() => undefined);
      throw tooLarge();
    }
    return Readable.fromWeb(res.body as Parameters<typeof Readable.fromWeb>[0]);
  }
}

/**
 * Copies `source` to `dest` (created 0644), hashing on the way, when `policy` allows it and
 * within its limits. Rejects AdapterError SourceNotAllowed for a source the policy refuses
 * (nothing opened), or ImagePullFailed: retryable for a source that failed, stalled or missed
 * the deadline, not for one over the size limit.
 */
export async function fetchTo(
  source: string,
  dest: string,
  policy: SourcePolicy,
  signal?: AbortSignal,
): Promise<Fetched> {
  const { limits } = policy;
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
  const deadline = setTimeout(
    () =>
      stop.abort(
        new AdapterError(
          "ImagePullFailed",
          `cannot fetch ${source}: not finished within ${limits.deadlineMs} ms (the fetch's deadline); ` +
            `${sizeBytes} bytes had arrived`,
        ),
      ),
    limits.deadlineMs,
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
      await open(source, policy, stop.signal, tooLarge),
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
    clearTimeout(deadline);
    signal?.removeEventListener("abort", onAbort);
  }
  return { sha256: hash.digest("hex"), sizeBytes };
}
