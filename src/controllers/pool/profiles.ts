// What a pool says about its users' profiles (pure). The schema accepts
// spec.session.persistence ProfileManaged, and its text promises the profile restored at logon
// and saved at logoff; until the data path of issue 21 lands nothing does that, so the pool says
// so in its status (ProfilesSynced=False) and in a Warning Event, instead of dropping profiles
// silently. Refusing the value in the schema instead would break every manifest that already
// uses it (examples/pool-knowledge.yaml does) for a promise that is about to be kept.
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
    readonly profile?: { readonly store?: string };
  };
}): ProfilesVerdict | undefined {
  if (pool.spec.session?.persistence !== "ProfileManaged") return undefined;
  const store = pool.spec.profile?.store;
  return {
    status: "False",
    reason: R.ProfileSyncNotAvailable,
    message:
      "spec.session.persistence is ProfileManaged, but this version of griddesk does not sync profiles yet: " +
      `nothing is restored from or saved to ${store ?? "spec.profile.store"}, so what a user changes is lost ` +
      "at logoff. Desktops are served as for a NonPersistent pool meanwhile.",
  };
}
