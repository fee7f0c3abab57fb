// Which versions of a profile the store keeps (pure; issue 22). Kept: the newest `retention`
// saved versions, each with the chain it needs to open (so an admin can restore any of them),
// and every chain a writer may still build on (the head, and the chain the lock holder's disk
// was made over). Everything else in the versions directory that is a version goes. A name that
// is not a version's is never touched.
import { chainOf, compareVersions, parseVersionName, type Backings } from "./versions.js";

export interface RetentionPlan {
  /** Versions that stay, oldest first. */
  readonly keep: string[];
  /** Versions to delete, oldest first. */
  readonly remove: string[];
  /** Saved versions that stay and open (their whole chain stays), newest first: what a restore may name. */
  readonly restorable: string[];
}

export function retentionPlan(
  backings: Backings,
  retention: number,
  pinned: readonly (readonly string[])[],
): RetentionPlan {
  const saved = [...backings.keys()]
    .filter((name) => parseVersionName(name)?.compacted === false && chainOf(backings, name))
    .sort(compareVersions)
    .reverse();
  const keep = new Set<string>();
  for (const name of saved.slice(0, Math.max(retention, 0)))
    for (const link of chainOf(backings, name) ?? []) keep.add(link);
  // A pinned chain is kept with every ancestor its links name, even past a missing one.
  for (const chain of pinned)
    for (const top of chain) {
      let at: string | undefined = top;
      while (at !== undefined && backings.has(at) && !keep.has(at)) {
        keep.add(at);
        at = backings.get(at);
      }
    }
  const all = [...backings.keys()].filter((name) => parseVersionName(name)).sort(compareVersions);
  return {
    keep: all.filter((name) => keep.has(name)),
    remove: all.filter((name) => !keep.has(name)),
    restorable: saved.filter((name) => chainOf(backings, name)?.every((link) => keep.has(link))),
  };
}
