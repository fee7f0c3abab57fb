// What image and boot sources an agent may open: the admin's allowed local roots and URL
// prefixes, and the bounds of each fetch. It is agent configuration (flags the Helm chart renders
// from its values), not an object in the API: the paths are the host's own, the agent is the
// process that opens them with root's rights, and a pool author can neither write an agent's
// arguments nor reach the system namespace they live in. The decision is the pure `sourceVerdict`;
// `resolveSource` first resolves symlinks and `..` on the host, so what is checked is what is
// opened.
import { realpath } from "node:fs/promises";
import path from "node:path";
import { AdapterError } from "../hypervisors/errors.js";
import { fileURLToPath } from "node:url";

/** Bounds on one fetch, so a source can neither fill the host's disk nor hold a pull forever. */
export interface FetchLimits {
  /** A source larger than this is refused (its partial copy removed by the caller). */
  readonly maxBytes: number;
  /** A source that sends nothing for this long (from the start, or between chunks) fails. */
  readonly stallTimeoutMs: number;
  /**
   * A fetch not finished this long after it started fails, however steadily bytes arrive: a
   * server that drips a byte just inside the stall timeout would otherwise hold a pull forever.
   */
  readonly deadlineMs: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = {
  maxBytes: 256 * 1024 ** 3,
  stallTimeoutMs: 60_000,
  deadlineMs: 4 * 3600_000, // 256 GiB, the size limit, at about 20 MB/s
};

export type SourceLocation =
  { readonly kind: "file"; readonly path: string } | { readonly kind: "http"; readonly url: string };

/** Where a source points; throws AdapterError InvalidSpec for anything else. */
export function locate(source: string): SourceLocation {
  if (source.startsWith("/")) return { kind: "file", path: source };
  if (source.startsWith("file:///")) return { kind: "file", path: filePath(source) };
  if (/^https?:\/\//.test(source)) return { kind: "http", url: source };
  throw new AdapterError(
    "InvalidSpec",
    `image source must be an absolute path, file:/// or http(s) URL: ${source}`,
  );
}

/** The path of a file:/// URL; InvalidSpec (never retried) for one Node cannot turn into a path. */
function filePath(source: string): string {
  try {
    return fileURLToPath(source);
  } catch (err) {
    // e.g. an encoded '/' (%2F): a name no file can have, refused as written, never tried again.
    const why = err instanceof Error ? err.message : String(err);
    throw new AdapterError("InvalidSpec", `image source ${source} is not a usable file:/// URL: ${why}`);
  }
}

export interface SourcePolicy {
  /** Directories a local source must lie in, after symlinks and `..` are resolved. */
  readonly localRoots: readonly string[];
  /** `scheme://host[:port]/path/` prefixes an http(s) source must start with. */
  readonly urlPrefixes: readonly string[];
  readonly limits: FetchLimits;
}

/** Nothing allowed: what an agent gets until its admin names roots or prefixes. */
export const DENY_ALL: SourcePolicy = { localRoots: [], urlPrefixes: [], limits: DEFAULT_FETCH_LIMITS };

/** Where the admin says what is allowed (the agent's flags), for messages. */
export const POLICY_FLAGS = "the agent's --allow-source-root and --allow-source-url-prefix";

/**
 * Checks the admin's lists themselves: roots absolute, prefixes http(s) URLs with no query,
 * fragment or credentials. Throws an Error naming the flag, for the CLI to refuse at start.
 */
export function checkPolicy(policy: SourcePolicy): void {
  for (const root of policy.localRoots)
    if (!path.isAbsolute(root))
      throw new Error(`--allow-source-root must be an absolute directory, got ${root}`);
  for (const prefix of policy.urlPrefixes) {
    const url = URL.canParse(prefix) ? new URL(prefix) : undefined;
    if (
      url === undefined ||
      !/^https?:$/.test(url.protocol) ||
      url.search !== "" ||
      url.hash !== "" ||
      url.username !== "" ||
      url.password !== ""
    )
      throw new Error(
        `--allow-source-url-prefix must be an http(s) URL with no query, fragment or credentials, got ${prefix}`,
      );
  }
  for (const [name, value, min] of [
    ["--fetch-max-bytes", policy.limits.maxBytes, 1],
    ["--fetch-stall-timeout", policy.limits.stallTimeoutMs, 1000],
    ["--fetch-deadline", policy.limits.deadlineMs, 1000],
  ] as const)
    if (!Number.isFinite(value) || value < min)
      throw new Error(`${name} must be at least ${min}, got ${value}`);
}

/** True when `child` is `parent` or lies below it (whole path segments, both absolute). */
function within(child: string, parent: string): boolean {
  const rel = path.relative(parent, child);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

/** True when `url` is at or below `prefix`: same origin, and the path continues at a segment. */
export function urlWithin(url: URL, prefix: URL): boolean {
  if (url.origin !== prefix.origin || url.username !== "" || url.password !== "") return false;
  const base = prefix.pathname.endsWith("/") ? prefix.pathname : `${prefix.pathname}/`;
  return url.pathname === prefix.pathname || url.pathname.startsWith(base);
}

/**
 * The admin's verdict on a located source whose local path is already resolved: undefined when
 * allowed, else why not (naming the source as the pool wrote it, never anything it points at).
 */
export function sourceVerdict(
  policy: SourcePolicy,
  source: string,
  loc: SourceLocation,
  resolvedRoots: readonly string[] = policy.localRoots,
): string | undefined {
  if (loc.kind === "file") {
    if (resolvedRoots.some((root) => within(loc.path, root))) return undefined;
    return policy.localRoots.length === 0
      ? `${source} is a local file, and this host allows none (${POLICY_FLAGS} name what is allowed)`
      : `${source} is not under a local root this host allows (${policy.localRoots.join(", ")}); ` +
          "symlinks and '..' are followed before the check";
  }
  const url = new URL(loc.url);
  if (policy.urlPrefixes.some((p) => urlWithin(url, new URL(p)))) return undefined;
  return policy.urlPrefixes.length === 0
    ? `${source} is a URL, and this host allows none (${POLICY_FLAGS} name what is allowed)`
    : `${source} is not under a URL prefix this host allows (${policy.urlPrefixes.join(", ")})`;
}

/**
 * The real path of `p`: symlinks and `..` resolved. A path that does not exist (yet) resolves
 * through its deepest existing ancestor, so a simulated host, where nothing exists, judges it
 * the same way as a real one.
 */
export async function realPathOf(p: string): Promise<string> {
  const abs = path.resolve(p);
  try {
    return await realpath(abs);
  } catch (err) {
    const parent = path.dirname(abs);
    if ((err as NodeJS.ErrnoException).code !== "ENOENT" || parent === abs) throw err;
    return path.join(await realPathOf(parent), path.basename(abs));
  }
}

/**
 * Where `source` really points, when the policy allows it: a local path with symlinks and `..`
 * resolved (open that path, not the one the pool wrote), or the normalised URL. Rejects
 * AdapterError SourceNotAllowed (not retryable), or InvalidSpec for a malformed source.
 */
export async function resolveSource(policy: SourcePolicy, source: string): Promise<SourceLocation> {
  const loc = locate(source);
  const real = loc.kind === "file" ? await realPathOf(loc.path) : undefined;
  const roots = await Promise.all(policy.localRoots.map((r) => realPathOf(r).catch(() => path.resolve(r))));
  return allowedOrRefused(policy, source, loc, real, roots);
}

/** The located source with its path resolved (`realPath`), or SourceNotAllowed with the reason. */
function allowedOrRefused(
  policy: SourcePolicy,
  source: string,
  loc: SourceLocation,
  realPath: string | undefined,
  roots: readonly string[],
): SourceLocation {
  const resolved: SourceLocation =
    loc.kind === "file"
      ? { kind: "file", path: realPath ?? loc.path }
      : { kind: "http", url: new URL(loc.url).href };
  const refusal = sourceVerdict(policy, source, resolved, roots);
  if (refusal !== undefined) throw new AdapterError("SourceNotAllowed", refusal);
  return resolved;
}

/** Where the admin says which containerDisks a KubeVirt agent allows (its flag), for messages. */
export const CONTAINER_DISK_FLAG = "the agent's --allow-container-disk-prefix";

/**
 * Checks the admin's containerDisk prefixes: registry/repository names, no tag or digest. Throws
 * an Error naming the flag, for the CLI to refuse at start.
 */
export function checkContainerDiskPrefixes(prefixes: readonly string[]): void {
  for (const prefix of prefixes) {
    const repository = prefix.includes("/") ? prefix.slice(prefix.indexOf("/")) : ""; // after the registry (and its port)
    if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(prefix) || repository.includes(":") || prefix.includes("@"))
      throw new Error(
        `--allow-container-disk-prefix must be a registry or repository prefix such as registry.example.com/golden/ ` +
          `(no tag or digest), got ${prefix}`,
      );
  }
}

/**
 * The admin's verdict on a containerDisk (an OCI reference a KubeVirt node's runtime will pull):
 * undefined when it lies under one of `prefixes` (whole path segments: registry.example.com/gold
 * does not admit registry.example.com/golden/x), else why not.
 */
export function containerDiskVerdict(prefixes: readonly string[], ref: string): string | undefined {
  const repository = ref.replace(/@sha256:[a-f0-9]{64}$/, "");
  const admitted = prefixes.some((p) => {
    const base = p.endsWith("/") ? p : `${p}/`;
    return repository === p.replace(/\/$/, "") || repository.startsWith(base);
  });
  if (admitted) return undefined;
  return prefixes.length === 0
    ? `containerDisk ${ref}: this host allows none (${CONTAINER_DISK_FLAG} names what is allowed)`
    : `containerDisk ${ref} is not under a prefix this host allows (${prefixes.join(", ")})`;
}

/** Every source an image names: its own, and its boot files' (an extra the libvirt adapter reads). */
export function sourcesOf(image: { readonly source: string }): string[] {
  const boot = (image as { boot?: Record<string, unknown> }).boot;
  const files = [boot?.kernel, boot?.initrd].filter((s): s is string => typeof s === "string");
  return [image.source, ...files];
}

/**
 * Throws SourceNotAllowed unless the policy allows every source the image names, judged on the
 * names alone (`..` resolved, no file system): for a simulated host, which has no files and so
 * no symlinks, and which must answer at once.
 */
export function checkSourcesLexically(policy: SourcePolicy, image: { readonly source: string }): void {
  const roots = policy.localRoots.map((r) => path.resolve(r));
  for (const source of sourcesOf(image)) {
    const loc = locate(source);
    allowedOrRefused(policy, source, loc, loc.kind === "file" ? path.resolve(loc.path) : undefined, roots);
  }
}

/** Rejects SourceNotAllowed unless the policy allows every source the image names. */
export async function checkSources(policy: SourcePolicy, image: { readonly source: string }): Promise<void> {
  for (const source of sourcesOf(image)) await resolveSource(policy, source);
}
