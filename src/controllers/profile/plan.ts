// What the profile controller does with a DesktopProfile (pure): erase it (deleted; once no
// session holds its lock), restore an earlier version (spec.restore; CEL keeps it apart from a
// lock), or nothing. The store work is in reconciler.ts.
import type { DesktopProfile } from "../../api/types.generated.js";
import type { Head } from "../../profiles/fence.js";

export type ProfilePlan =
  | { readonly kind: "none" }
  /** Deleted while a session holds the lock: the erase waits for its logoff. */
  | { readonly kind: "eraseWaits"; readonly holder: string }
  | { readonly kind: "erase" }
  /** Make `version` head again, under a new fencing epoch. */
  | { readonly kind: "restore"; readonly version: string; readonly epoch: number };

export function profilePlan(profile: Pick<DesktopProfile, "metadata" | "spec">): ProfilePlan {
  const { lock, restore } = profile.spec;
  if (profile.metadata.deletionTimestamp)
    return lock ? { kind: "eraseWaits", holder: lock.session } : { kind: "erase" };
  if (restore && !lock)
    return { kind: "restore", version: restore.version, epoch: (profile.spec.epoch ?? 0) + 1 };
  return { kind: "none" };
}

/** The chain that ends at `version`, or undefined when `version` is not in `head`'s chain. */
export function restoredChain(head: Head, version: string): string[] | undefined {
  const at = head.chain.indexOf(version);
  return at < 0 ? undefined : head.chain.slice(0, at + 1);
}
