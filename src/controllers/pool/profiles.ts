// What a pool says about its users' profiles (pure). A ProfileManaged pool gets one
// DesktopProfile per user with a write lock per session; until the data path of issue 21 (its
// milestone 3) copies the profile to and from the store, the pool says in its status
// (ProfilesSynced=False) and in a Warning Event that nothing is restored or saved, instead of
// dropping profiles silently.
import { DesktopPoolReasons as R } from "../../api/conditions.js";

export interface ProfilesVerdict {
  status: "True" | "False";
  reason: string;
  message: string;
}

/** The ProfilesSynced condition for `pool`, or undefined when the pool keeps no profiles. */
export function profilesVerdict(pool: {
  readonly spec: {
    readonly session?: { readonly persistence?: string };
    readonly profile?: { readonly store?: { readonly address: string; readonly path: string } };
  };
}): ProfilesVerdict | undefined {
  if (pool.spec.session?.persistence !== "ProfileManaged") return undefined;
  const store = pool.spec.profile?.store;
  const where = store ? `${store.address}${store.path}` : "spec.profile.store";
  return {
    status: "False",
    reason: R.ProfileSyncNotAvailable,
    message:
      "spec.session.persistence is ProfileManaged, but this version of griddesk does not copy profile data yet: " +
      `each user's DesktopProfile and its write lock are kept, but nothing is restored from or saved to ${where}, ` +
      "so what a user changes is lost at logoff.",
  };
}
