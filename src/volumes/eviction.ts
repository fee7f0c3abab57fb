// Which cached golden images to evict under disk pressure, as a pure function: least recently
// used first, never one an overlay uses (or a pull is making), until free space is back above
// the threshold.

export interface EvictionCandidate {
  readonly sha256: string;
  readonly sizeBytes: number;
  /** Milliseconds since the epoch. */
  readonly lastUsed: number;
}

/**
 * The sha256s to remove, oldest use first. Nothing when `freeBytes` already meets
 * `minFreeBytes`; every unused image when even that would not be enough.
 */
export function chooseEvictions(
  images: readonly EvictionCandidate[],
  inUse: ReadonlySet<string>,
  freeBytes: number,
  minFreeBytes: number,
): string[] {
  if (freeBytes >= minFreeBytes) return [];
  const victims: string[] = [];
  let free = freeBytes;
  const unused = images.filter((i) => !inUse.has(i.sha256));
  unused.sort((a, b) => a.lastUsed - b.lastUsed || a.sha256.localeCompare(b.sha256));
  for (const image of unused) {
    if (free >= minFreeBytes) break;
    victims.push(image.sha256);
    free += image.sizeBytes;
  }
  return victims;
}
