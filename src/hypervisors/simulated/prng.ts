// Seeded randomness for the simulated adapter: same seed, same sequence, on every machine.

/** A source of numbers uniformly distributed in [0, 1). */
export type Random = () => number;

/** mulberry32: a 32-bit state generator; small, fast and good enough for simulation. */
export function mulberry32(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a of a string, as a 32-bit seed (used to seed each host from its name by default). */
export function seedFromString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export interface Latency {
  /** Mean in milliseconds. */
  readonly mean: number;
  /** Half-width of the uniform spread around the mean, in milliseconds. */
  readonly jitter: number;
}

/** A whole number of milliseconds, uniform in [mean - jitter, mean + jitter], never negative. */
export function drawLatency(random: Random, latency: Latency): number {
  return Math.max(0, Math.round(latency.mean + (2 * random() - 1) * latency.jitter));
}
