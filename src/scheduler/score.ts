// Scoring of hosts that passed the filters. Higher is better; ties go to the smaller host name.

import { load } from "./capacity.js";
import type { DesktopRequest, HostView } from "./types.js";

/** Worth as much as ten percentage points of normalised load: copying an image is slow. */
export const IMAGE_CACHED_BONUS = 0.1;

/**
 * BreadthFirst: 1 − load, so the least loaded host wins; DepthFirst: load, so the most loaded
 * host that still fits wins. Load is measured after placing the request, as a fraction of each
 * host's own allocatable CPU and memory, so unlike hosts compare fairly.
 */
export function scoreHost(request: DesktopRequest, host: HostView): number {
  const after = load(host, request);
  const base = request.strategy === "DepthFirst" ? after : 1 - after;
  const bonus = host.cachedImages.includes(request.imageSha256) ? IMAGE_CACHED_BONUS : 0;
  // Rounded so that floating-point noise never outweighs the deterministic tie-break.
  return Math.round((base + bonus) * 1e9) / 1e9;
}

/** Orders hosts best first: score descending, then name ascending. Returns a new array. */
export function rankHosts<H extends HostView>(request: DesktopRequest, hosts: readonly H[]): H[] {
  return hosts
    .map((host) => ({ host, score: scoreHost(request, host) }))
    .sort((a, b) => b.score - a.score || compareNames(a.host.name, b.host.name))
    .map((s) => s.host);
}

/** Code-unit order, independent of locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
