// What a pool says about profiles until they are synced: a ProfileManaged pool owns up to it.
import { describe, expect, it } from "@jest/globals";
import { profilesVerdict } from "../../../src/controllers/pool/profiles.js";
import type { DesktopPool } from "../../../src/api/types.generated.js";

const spec = (extra: Partial<DesktopPool["spec"]>) =>
  ({
    spec: { image: { source: "x", sha256: "0".repeat(64) }, resources: {}, ...extra },
  }) as unknown as DesktopPool;

describe("profilesVerdict", () => {
  it("says nothing for a pool that keeps no profiles", () => {
    expect(profilesVerdict(spec({}))).toBeUndefined();
    expect(profilesVerdict(spec({ session: { persistence: "NonPersistent" } }))).toBeUndefined();
  });

  it("says a ProfileManaged pool's profiles are not synced, naming its store", () => {
    const v = profilesVerdict(
      spec({
        session: { persistence: "ProfileManaged" },
        profile: {
          store: { address: "sftp://files", path: "/profiles", secretRef: { name: "s" } },
          quota: "1Gi",
        },
      }),
    );
    expect(v).toMatchObject({ status: "False", reason: "ProfileSyncNotAvailable" });
    expect(v?.message).toContain("sftp://files/profiles");
    expect(v?.message).toContain("lost at logoff");
  });
});
