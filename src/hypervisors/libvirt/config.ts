// The libvirt adapter's settings: the HostNode's `spec.hypervisor.libvirt` block (uri) merged
// with the agent's flags (storage path, VNC address, cache threshold). Validated up front, so a
// bad value is refused with InvalidHostConfig naming the field, before anything is touched.
import path from "node:path";
import { AdapterError } from "../errors.js";

export interface LibvirtHostConfig {
  /** libvirt connection URI; the host's own libvirtd by default. */
  readonly uri: string;
  /** Absolute directory for images/, overlays/, boot/ on the host's own disk. */
  readonly storagePath: string;
  /** Address QEMU's VNC server listens on. */
  readonly vncListen: string;
  /** Host name or address written into endpoints (default: vncListen). */
  readonly endpointHost: string;
  /** Unused images are evicted while free space is below this. */
  readonly imageCacheMinFreeBytes: number;
  /** A failed image pull is tried again after this long. */
  readonly imageRetryAfterMs: number;
  /** Timeout of one virsh or qemu-img call. */
  readonly commandTimeoutMs: number;
  /** libvirt domain type: `kvm` (hardware virtualisation) or `qemu` (TCG, no /dev/kvm needed). */
  readonly domainType: DomainType;
}

export const DOMAIN_TYPES = ["qemu", "kvm"] as const;
export type DomainType = (typeof DOMAIN_TYPES)[number];

const GiB = 1024 ** 3;
const KNOWN = [
  "type",
  "uri",
  "storagePath",
  "vncListen",
  "endpointHost",
  "imageCacheMinFreeBytes",
  "imageRetryAfterMs",
  "commandTimeoutMs",
  "domainType",
];

function bad(field: string, problem: string): never {
  throw new AdapterError("InvalidHostConfig", `spec.hypervisor.libvirt.${field} ${problem}`);
}

function str(s: Record<string, unknown>, field: string, fallback: string, pattern = /^\S+$/): string {
  const value = s[field] ?? fallback;
  if (typeof value !== "string" || !pattern.test(value)) bad(field, `is not valid: ${JSON.stringify(value)}`);
  return value;
}

function num(s: Record<string, unknown>, field: string, fallback: number, min: number): number {
  const value = s[field] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min)
    bad(field, `must be a number >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

function oneOf<T extends string>(
  s: Record<string, unknown>,
  field: string,
  fallback: T,
  allowed: readonly T[],
): T {
  const value = s[field] ?? fallback;
  if (!allowed.includes(value as T))
    bad(field, `must be one of ${allowed.join(", ")}, got ${JSON.stringify(value)}`);
  return value as T;
}

/** The host's own libvirtd: the only connections a HostNode's spec may name. */
export const LOCAL_LIBVIRT_URIS = ["qemu:///system", "qemu:///session"] as const;

/**
 * `allowedUris`: connections beyond the local ones that the agent's admin allowed (the agent's
 * own --libvirt-uri). Anything else (qemu+ssh:// dials out; qemu+ext:// runs a command on the
 * host) is refused before it is ever dialled.
 */
export function parseLibvirtConfig(
  hostName: string,
  settings: Readonly<Record<string, unknown>>,
  allowedUris: readonly string[] = [],
): LibvirtHostConfig {
  const s = settings as Record<string, unknown>;
  const unknown = Object.keys(s).find((key) => !KNOWN.includes(key));
  if (unknown !== undefined) bad(unknown, `is not a libvirt setting; known: ${KNOWN.slice(1).join(", ")}`);
  const storagePath = str(s, "storagePath", `/var/lib/griddesk/${hostName}`);
  if (!path.isAbsolute(storagePath)) bad("storagePath", `must be an absolute path, got ${storagePath}`);
  const vncListen = str(s, "vncListen", "127.0.0.1", /^[0-9A-Za-z.:-]+$/);
  const uri = str(s, "uri", "qemu:///system", /^[a-z0-9+]+:\/\/\S*$/);
  if (!(LOCAL_LIBVIRT_URIS as readonly string[]).includes(uri) && !allowedUris.includes(uri))
    bad(
      "uri",
      `${uri} is not the host's own libvirtd (${LOCAL_LIBVIRT_URIS.join(", ")}); ` +
        "another URI is allowed only by the agent's own --libvirt-uri",
    );
  return {
    uri,
    storagePath: path.resolve(storagePath),
    vncListen,
    endpointHost: str(s, "endpointHost", vncListen, /^[0-9A-Za-z.:-]+$/),
    imageCacheMinFreeBytes: num(s, "imageCacheMinFreeBytes", 2 * GiB, 0),
    imageRetryAfterMs: num(s, "imageRetryAfterMs", 30_000, 0),
    commandTimeoutMs: num(s, "commandTimeoutMs", 60_000, 1000),
    domainType: oneOf(s, "domainType", "qemu", DOMAIN_TYPES),
  };
}
