import { describe, expect, it } from "@jest/globals";
import type { LabelSelector } from "../../../src/scheduler/index.js";
import { matchesSelector, selectorError } from "../../../src/scheduler/index.js";

const labels = { zone: "berlin-a", "griddesk.io/cpu": "epyc-9004", gpu: "" };

describe("matchesSelector", () => {
  it.each<[string, LabelSelector | undefined, boolean]>([
    ["absent selector matches all", undefined, true],
    ["empty selector matches all", {}, true],
    ["empty lists match all", { matchLabels: {}, matchExpressions: [] }, true],
    ["matchLabels equal", { matchLabels: { zone: "berlin-a" } }, true],
    ["matchLabels all pairs", { matchLabels: { zone: "berlin-a", "griddesk.io/cpu": "epyc-9004" } }, true],
    ["matchLabels one pair differs", { matchLabels: { zone: "berlin-a", "griddesk.io/cpu": "xeon" } }, false],
    ["matchLabels missing key", { matchLabels: { rack: "3" } }, false],
    ["matchLabels empty value present", { matchLabels: { gpu: "" } }, true],
    ["matchLabels empty value absent", { matchLabels: { rack: "" } }, false],
    ["In matches", { matchExpressions: [{ key: "zone", operator: "In", values: ["x", "berlin-a"] }] }, true],
    ["In other value", { matchExpressions: [{ key: "zone", operator: "In", values: ["berlin-b"] }] }, false],
    ["In missing key", { matchExpressions: [{ key: "rack", operator: "In", values: ["3"] }] }, false],
    ["NotIn other value", { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["b"] }] }, true],
    ["NotIn listed", { matchExpressions: [{ key: "zone", operator: "NotIn", values: ["berlin-a"] }] }, false],
    ["NotIn missing key", { matchExpressions: [{ key: "rack", operator: "NotIn", values: ["3"] }] }, true],
    ["Exists present", { matchExpressions: [{ key: "zone", operator: "Exists" }] }, true],
    ["Exists with empty value", { matchExpressions: [{ key: "gpu", operator: "Exists" }] }, true],
    ["Exists absent", { matchExpressions: [{ key: "rack", operator: "Exists" }] }, false],
    ["DoesNotExist absent", { matchExpressions: [{ key: "rack", operator: "DoesNotExist" }] }, true],
    ["DoesNotExist present", { matchExpressions: [{ key: "zone", operator: "DoesNotExist" }] }, false],
    [
      "prototype keys are not labels",
      { matchExpressions: [{ key: "constructor", operator: "Exists" }] },
      false,
    ],
    [
      "labels and expressions are ANDed",
      {
        matchLabels: { zone: "berlin-a" },
        matchExpressions: [{ key: "griddesk.io/cpu", operator: "In", values: ["xeon"] }],
      },
      false,
    ],
    [
      "all expressions must hold",
      {
        matchExpressions: [
          { key: "zone", operator: "Exists" },
          { key: "gpu", operator: "DoesNotExist" },
        ],
      },
      false,
    ],
  ])("%s", (_, selector, expected) => {
    expect(matchesSelector(selector, labels)).toBe(expected);
  });

  it("an empty selector matches a host without labels", () => {
    expect(matchesSelector({}, {})).toBe(true);
  });
});

describe("invalid selectors", () => {
  it.each<[LabelSelector, string]>([
    [
      { matchExpressions: [{ key: "zone", operator: "In", values: [] }] },
      "operator In needs at least one value",
    ],
    [{ matchExpressions: [{ key: "zone", operator: "NotIn" }] }, "operator NotIn needs at least one value"],
    [
      { matchExpressions: [{ key: "zone", operator: "Exists", values: ["a"] }] },
      "operator Exists takes no values",
    ],
    [
      { matchExpressions: [{ key: "zone", operator: "DoesNotExist", values: ["a"] }] },
      "operator DoesNotExist takes no values",
    ],
    [
      { matchExpressions: [{ key: "zone", operator: "Equals" as "In", values: ["a"] }] },
      'unknown operator "Equals"',
    ],
  ])("%j: %s", (selector, message) => {
    expect(selectorError(selector)).toContain(message);
    expect(selectorError(selector)).toContain('matchExpressions[0] (key "zone")');
    // Fail closed: an invalid selector matches nothing, not even with NotIn.
    expect(matchesSelector(selector, { zone: "other" })).toBe(false);
  });

  it("valid selectors have no error", () => {
    expect(selectorError(undefined)).toBeUndefined();
    expect(selectorError({ matchExpressions: [{ key: "a", operator: "Exists" }] })).toBeUndefined();
  });
});
