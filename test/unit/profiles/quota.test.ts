import { describe, expect, it } from "@jest/globals";
import { formatBytesRounded } from "../../../src/controllers/shared/format.js";
import { quotaState } from "../../../src/profiles/quota.js";

const Mi = 1024 ** 2;

describe("quotaState", () => {
  it("is at quota from 95% of it, and says how much is used", () => {
    expect(quotaState(250 * Mi, 256 * Mi, formatBytesRounded)).toEqual({
      atQuota: true,
      message: "uses 250Mi of its 256Mi quota (97%)",
    });
    expect(quotaState(243 * Mi, 256 * Mi, formatBytesRounded).atQuota).toBe(false); // 94.9%
    expect(quotaState(0, 256 * Mi, formatBytesRounded).atQuota).toBe(false);
  });
});
