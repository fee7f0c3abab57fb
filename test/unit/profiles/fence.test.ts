// The names the fence writes on the store, and how it finds the newest epoch among them.
import { describe, expect, it } from "@jest/globals";
import { headName, markerName, newestEpoch } from "../../../src/profiles/fence.js";

describe("profile fence names", () => {
  it("pads epochs so that names sort as the numbers do", () => {
    expect(markerName(7)).toBe("epoch-000000000007");
    expect(headName(12)).toBe("head-000000000012.json");
    const names = [9, 10, 100, 2].map(markerName).sort();
    expect(names.map((n) => Number(n.slice(6)))).toEqual([2, 9, 10, 100]);
  });

  it("finds the newest epoch by number, ignoring what is not a marker", () => {
    expect(newestEpoch([])).toBe(0);
    expect(newestEpoch([markerName(9), markerName(10), markerName(2)])).toBe(10);
    expect(
      newestEpoch([".tmp", "epoch-000000000099.1a2b.part", "epoch-99", "epoch-0000000000x9", markerName(3)]),
    ).toBe(3);
  });
});
