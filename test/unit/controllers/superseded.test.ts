import { describe, expect, it } from "@jest/globals";
import { Superseded } from "../../../src/controllers/shared/superseded.js";

const obj = (resourceVersion: string) => ({ metadata: { namespace: "ns", name: "a", resourceVersion } });

describe("Superseded", () => {
  it("says a cached copy is behind while it is the version a write replaced", () => {
    const s = new Superseded();
    expect(s.isBehind(obj("1"))).toBe(false);
    s.wrote(obj("1"));
    expect(s.isBehind(obj("1"))).toBe(true);
  });
  it("forgets once the cache shows another version", () => {
    const s = new Superseded();
    s.wrote(obj("1"));
    expect(s.isBehind(obj("2"))).toBe(false);
    expect(s.isBehind(obj("1"))).toBe(false);
  });
  it("forgets a key on request", () => {
    const s = new Superseded();
    s.wrote(obj("1"));
    s.forget("ns/a");
    expect(s.isBehind(obj("1"))).toBe(false);
  });
});
