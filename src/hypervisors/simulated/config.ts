// Settings of a simulated host, read from the HostNode's `spec.hypervisor` block. Every field
// is optional: a named profile gives the size, explicit numbers override it, and the seed
// defaults to one derived from the host name (so hosts differ, and each is reproducible).
import { AdapterError } from "../errors.js";
import { seedFromString, type Latency } from "./prng.js";

const GiB = 1024 ** 3;
const TiB = 1024 ** 4;

export interface HostSize {
  readonly cpuModel: string;
  readonly cpuVendor: string;
  readonly cores: number;
  readonly memoryBytes: number;
  readonly localStorageBytes: number;
}

export const SIMULATED_PROFILES = {
  small: {
    cpuModel: "Intel Xeon E-2388G",
    cpuVendor: "Intel",
    cores: 8,
    memoryBytes: 64 * GiB,
    localStorageBytes: 1 * TiB,
  },
  medium: {
    cpuModel: "AMD EPYC 7543",
    cpuVendor: "AMD",
    cores: 32,
    memoryBytes: 256 * GiB,
    localStorageBytes: 2 * TiB,
  },
  large: {
    cpuModel: "AMD EPYC 9654",
    cpuVendor: "AMD",
    cores: 96,
    memoryBytes: 1024 * GiB,
    localStorageBytes: 8 * TiB,
  },
} as const satisfies Record<string, HostSize>;

export type SimulatedProfile = keyof typeof SIMULATED_PROFILES;

export interface SimulatedHostConfig extends HostSize {
  readonly profile: SimulatedProfile;
  readonly seed: number;
  readonly provisioningLatency: Latency;
  readonly imagePullLatency: Latency;
  /** Probability in [0, 1] that a VM ends in state "failed" instead of "running". */
  readonly failureRate: number;
  /** Size reported for every pulled image. */
  readonly imageSizeBytes: number;
  /** Where the (fake) overlays live; shows in VmStatus.overlayPath. */
  readonly storagePath: string;
}

const KNOWN = new Set([
  ...["type", "profile", "seed", "cpuModel", "cpuVendor", "cores", "memoryBytes", "localStorageBytes"],
  ...["provisioningLatency", "imagePullLatency", "failureRate", "imageSizeBytes", "storagePath"],
]);

function bad(field: string, problem: string): never {
  throw new AdapterError("InvalidHostConfig", `spec.hypervisor.${field} ${problem}`);
}

/** `field` may be a dotted path for nested settings; its last part is the key in `s`. */
function num(
  s: Record<string, unknown>,
  field: string,
  fallback: number,
  min: number,
  max = Infinity,
): number {
  const value = s[field.split(".").pop() as string] ?? fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    bad(field, `must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function str(s: Record<string, unknown>, field: string, fallback: string): string {
  const value = s[field] ?? fallback;
  if (typeof value !== "string" || value === "") bad(field, "must be a non-empty string");
  return value;
}

function latency(s: Record<string, unknown>, field: string, fallback: Latency): Latency {
  const value = s[field] ?? fallback;
  if (typeof value !== "object" || value === null) bad(field, "must be an object {mean, jitter} in ms");
  const v = value as Record<string, unknown>;
  const mean = num(v, `${field}.mean`, fallback.mean, 0);
  return { mean, jitter: num(v, `${field}.jitter`, fallback.jitter, 0, mean) };
}

export function parseSimulatedConfig(
  hostName: string,
  settings: Readonly<Record<string, unknown>>,
): SimulatedHostConfig {
  const s = settings as Record<string, unknown>;
  const unknown = Object.keys(s).filter((key) => !KNOWN.has(key));
  if (unknown.length > 0)
    bad(unknown[0] as string, `is not a simulated setting; known: ${[...KNOWN].join(", ")}`);
  const profile = s.profile ?? "medium";
  if (typeof profile !== "string" || !Object.hasOwn(SIMULATED_PROFILES, profile)) {
    bad(
      "profile",
      `must be one of ${Object.keys(SIMULATED_PROFILES).join(", ")}, got ${JSON.stringify(profile)}`,
    );
  }
  const base: HostSize = SIMULATED_PROFILES[profile as SimulatedProfile];
  const seed = num(s, "seed", seedFromString(hostName), 0, 2 ** 32 - 1);
  if (!Number.isInteger(seed)) bad("seed", "must be an integer");
  return {
    profile: profile as SimulatedProfile,
    seed,
    cpuModel: str(s, "cpuModel", base.cpuModel),
    cpuVendor: str(s, "cpuVendor", base.cpuVendor),
    cores: num(s, "cores", base.cores, 1),
    memoryBytes: num(s, "memoryBytes", base.memoryBytes, 1),
    localStorageBytes: num(s, "localStorageBytes", base.localStorageBytes, 1),
    provisioningLatency: latency(s, "provisioningLatency", { mean: 3000, jitter: 1000 }),
    imagePullLatency: latency(s, "imagePullLatency", { mean: 10000, jitter: 2000 }),
    failureRate: num(s, "failureRate", 0, 0, 1),
    imageSizeBytes: num(s, "imageSizeBytes", 20 * GiB, 1),
    storagePath: str(s, "storagePath", `/var/lib/griddesk/simulated/${hostName}`),
  };
}
