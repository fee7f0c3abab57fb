// Profile object names and user labels: valid Kubernetes names and label values for any user id,
// one per (store, user).
import { describe, expect, it } from "@jest/globals";
import { profileName, userLabel } from "../../../src/profiles/naming.js";

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const store = { address: "sftp://files.example.com", path: "/profiles" };

describe("profileName", () => {
  it("reads as the user and ends in a digest", () => {
    expect(profileName(store, "Alice@Example.com")).toMatch(/^alice-at-example\.com-[0-9a-f]{10}$/);
  });

  it("is a DNS subdomain for awkward user ids", () => {
    for (const user of ["-x@y", "ÄÖÜ@umlaut.de", "a..b@c", "@", "x".repeat(256), "o'brien+tag@example.com"])
      expect(profileName(store, user)).toMatch(DNS_SUBDOMAIN);
  });

  it("differs for users whose readable forms collide, and for one user on two stores", () => {
    expect(profileName(store, "a+b@x.com")).not.toBe(profileName(store, "a-b@x.com"));
    expect(profileName(store, "a@x.com")).not.toBe(profileName({ ...store, path: "/other" }, "a@x.com"));
    expect(profileName(store, "a@x.com")).toBe(profileName({ ...store, path: "/profiles/" }, "a@x.com"));
  });
});

describe("userLabel", () => {
  it("is a valid label value for any user id", () => {
    expect(userLabel("alice@example.com")).toBe("alice_at_example.com");
    for (const user of ["-x@y-", "ÄÖÜ@umlaut.de", "x".repeat(300), "__"])
      expect(userLabel(user)).toMatch(LABEL_VALUE);
  });
});
