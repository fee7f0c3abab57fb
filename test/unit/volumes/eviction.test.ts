import { describe, expect, it } from "@jest/globals";
import { chooseEvictions } from "../../../src/volumes/eviction.js";

const img = (sha256: string, lastUsed: number, sizeBytes = 10) => ({ sha256, lastUsed, sizeBytes });

describe("chooseEvictions", () => {
  const images = [img("new", 300), img("old", 100), img("mid", 200)];

  it.each([
    ["no pressure: nothing", 100, 50, new Set<string>(), []],
    ["least recently used first, until free again", 40, 55, new Set<string>(), ["old", "mid"]],
    ["never an image an overlay uses", 40, 55, new Set(["old"]), ["mid", "new"]],
    ["everything unused when even that is not enough", 0, 1000, new Set(["mid"]), ["old", "new"]],
  ])("%s", (_, free, min, inUse, want) => {
    expect(chooseEvictions(images, inUse, free, min)).toEqual(want);
  });
});
