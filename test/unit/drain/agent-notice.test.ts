import { describe, expect, it } from "@jest/globals";
import { Annotations } from "../../../src/api/constants.js";
import type { Desktop } from "../../../src/api/types.generated.js";
import { noticeDigest, pendingNotice } from "../../../src/agent/notice.js";
import { onHost } from "./fixtures.js";

const withAnnotations = (annotations: Record<string, string>): Desktop => {
  const d = structuredClone(onHost().desktop) as Desktop;
  d.metadata.annotations = annotations;
  return d;
};

describe("the agent's in-guest notice", () => {
  it.each([
    ["no notice", {}, undefined],
    ["a new notice", { [Annotations.Notice]: "Logoff at 18:00." }, "Logoff at 18:00."],
    [
      "already delivered",
      {
        [Annotations.Notice]: "Logoff at 18:00.",
        [Annotations.NoticeDelivered]: noticeDigest("Logoff at 18:00."),
      },
      undefined,
    ],
    [
      "a reminder after the first notice",
      {
        [Annotations.Notice]: "Reminder: logoff at 18:00.",
        [Annotations.NoticeDelivered]: noticeDigest("Logoff at 18:00."),
      },
      "Reminder: logoff at 18:00.",
    ],
  ])("%s", (_what, annotations, pending) => {
    expect(pendingNotice(withAnnotations(annotations))).toBe(pending);
  });
  it("digests are short and stable", () => {
    expect(noticeDigest("a")).toHaveLength(16);
    expect(noticeDigest("a")).toBe(noticeDigest("a"));
    expect(noticeDigest("a")).not.toBe(noticeDigest("b"));
  });
});
