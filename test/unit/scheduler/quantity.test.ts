import { describe, expect, it } from "@jest/globals";
import fc from "fast-check";
import { QuantityError, parseBytes, parseCpuMilli } from "../../../src/scheduler/index.js";

describe("parseCpuMilli", () => {
  it.each([
    ["2", 2000],
    ["500m", 500],
    ["0.5", 500],
    ["1.5", 1500],
    [".25", 250],
    ["1.", 1000],
    ["+3", 3000],
    ["-0", 0],
    ["0", 0],
    ["1e3", 1_000_000],
    ["1E3", 1_000_000],
    ["2e-3", 2],
    ["100u", 1], // rounds up, like resource.Quantity.MilliValue
    ["0.0001", 1],
    ["1500n", 1],
    ["1k", 1_000_000],
    [64, 64_000],
    [0.25, 250],
  ] as const)("%j → %d millicores", (input, expected) => {
    expect(parseCpuMilli(input)).toBe(expected);
  });
});

describe("parseBytes", () => {
  it.each([
    ["4Gi", 4 * 1024 ** 3],
    ["100Mi", 100 * 1024 ** 2],
    ["2Ti", 2 * 1024 ** 4],
    ["1Ki", 1024],
    ["1.5Gi", 1.5 * 1024 ** 3],
    ["1Pi", 1024 ** 5],
    ["1.5G", 1_500_000_000],
    ["1k", 1000],
    ["1M", 1_000_000],
    ["3T", 3e12],
    ["2P", 2e15],
    ["1e3", 1000],
    ["1e+3", 1000],
    ["1.5e3", 1500],
    ["2.5E-1", 1],
    ["12345", 12345],
    ["0.5", 1], // rounds up to whole bytes
    ["500m", 1],
    ["1000m", 1],
    ["1001m", 2],
    [512, 512],
  ] as const)("%j → %d bytes", (input, expected) => {
    expect(parseBytes(input)).toBe(expected);
  });
});

describe("invalid quantities", () => {
  it.each([
    ["", "must not be empty"],
    [" 1", "expected a number"],
    ["1 ", "expected a number"],
    ["1Gb", "expected a number"],
    ["1gi", "expected a number"],
    ["1K", "expected a number"],
    ["1e", "expected a number"],
    ["e3", "expected a number"],
    ["1.2.3", "expected a number"],
    [".", "expected a number"],
    ["1Gi2", "expected a number"],
    ["0x10", "expected a number"],
    ["four", "expected a number"],
    ["-1", "must not be negative"],
    ["-500m", "must not be negative"],
    ["1e999", "exponent out of range"],
    ["1Ei", "too large"],
    ["10E", "too large"],
    [Number.NaN, "must be a finite number"],
    [Infinity, "must be a finite number"],
  ] as const)("%j is refused (%s)", (input, detail) => {
    expect(() => parseBytes(input)).toThrow(QuantityError);
    expect(() => parseBytes(input)).toThrow(`: ${detail}`);
  });

  it("names the input in the error", () => {
    expect(() => parseCpuMilli("2 cores")).toThrow(
      'invalid quantity "2 cores": expected a number with an optional suffix',
    );
    expect(() => parseCpuMilli(Number.NaN)).toThrow("invalid quantity NaN: must be a finite number");
  });

  it("refuses non-string input from untyped YAML", () => {
    expect(() => parseBytes(null as unknown as string)).toThrow(QuantityError);
  });
});

describe("quantity properties", () => {
  const suffixes = [
    ["Ki", 2 ** 10],
    ["Mi", 2 ** 20],
    ["Gi", 2 ** 30],
    ["Ti", 2 ** 40],
    ["k", 1e3],
    ["M", 1e6],
    ["G", 1e9],
  ] as const;

  it("an integer with a suffix is the integer times the suffix's multiplier", () => {
    fc.assert(
      fc.property(fc.constantFrom(...suffixes), fc.integer({ min: 0, max: 4096 }), ([suffix, factor], n) => {
        expect(parseBytes(`${n}${suffix}`)).toBe(n * factor);
      }),
    );
  });

  it("millicores round-trip through m and through decimal cores", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (milli) => {
        expect(parseCpuMilli(`${milli}m`)).toBe(milli);
        expect(parseCpuMilli(String(milli / 1000))).toBe(milli);
      }),
    );
  });

  it("never returns a negative or fractional number, or throws anything but QuantityError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        try {
          const value = parseBytes(text);
          expect(Number.isSafeInteger(value) && value >= 0).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(QuantityError);
        }
      }),
    );
  });
});
