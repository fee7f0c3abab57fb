import { describe, expect, it } from "@jest/globals";
import { AdapterError, isAdapterError, toAdapterError } from "../../../src/hypervisors/errors.js";
import { validateIdentity, validateImageRef, validateVmSpec } from "../../../src/hypervisors/validate.js";
import { image, vmSpec } from "./sim-helpers.js";

const reasonOf = (fn: () => void): unknown => {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
};

describe("input validation", () => {
  it("accepts a well-formed spec", () => {
    expect(() => validateVmSpec(vmSpec(1))).not.toThrow();
    expect(() => validateVmSpec({ ...vmSpec(1), image: { ...image, firmware: "uefi" } })).not.toThrow();
  });

  it.each([
    [{ ...vmSpec(1), cpuMilli: 1.5 }, "spec.cpuMilli must be a positive integer"],
    [{ ...vmSpec(1), memoryBytes: -1 }, "spec.memoryBytes must be a positive integer"],
    [{ ...vmSpec(1), id: { namespace: "a", name: "", uid: "u" } }, "spec.id.name must be a non-empty string"],
    [
      { ...vmSpec(1), image: { ...image, sha256: "AB".repeat(32) } },
      "spec.image.sha256 must be 64 lower-case hex",
    ],
    [{ ...vmSpec(1), image: { ...image, format: "vmdk" } }, "spec.image.format must be one of qcow2, raw"],
    [{ ...vmSpec(1), image: { ...image, firmware: "coreboot" } }, "spec.image.firmware must be bios or uefi"],
  ])("refuses %#: %s", (spec, message) => {
    const err = reasonOf(() => validateVmSpec(spec as never));
    expect(err).toMatchObject({ reason: "InvalidSpec", retryable: false });
    expect((err as Error).message).toContain(message);
  });

  it("checks identities and image refs on their own", () => {
    expect(reasonOf(() => validateIdentity({ namespace: "a", name: "b", uid: "" }))).toMatchObject({
      message: "id.uid must be a non-empty string",
    });
    expect(reasonOf(() => validateImageRef({ ...image, source: "" }))).toMatchObject({
      message: "image.source must be a non-empty string",
    });
  });
});

describe("AdapterError", () => {
  it("takes retryable from its reason unless told otherwise", () => {
    expect(new AdapterError("HostUnreachable", "x").retryable).toBe(true);
    expect(new AdapterError("InvalidSpec", "x").retryable).toBe(false);
    expect(new AdapterError("Internal", "x", { retryable: false }).retryable).toBe(false);
  });

  it("wraps anything else as Internal, keeping the cause", () => {
    const cause = new Error("libvirt: connection reset");
    const wrapped = toAdapterError(cause);
    expect(wrapped).toMatchObject({ reason: "Internal", retryable: true, message: cause.message, cause });
    expect(isAdapterError(wrapped)).toBe(true);
    expect(toAdapterError(wrapped)).toBe(wrapped);
    expect(toAdapterError("boom").message).toBe("boom");
  });
});
