import { describe, expect, it } from "@jest/globals";
import { parseLibvirtConfig } from "../../../src/hypervisors/libvirt/config.js";

describe("parseLibvirtConfig", () => {
  it("defaults to the local libvirtd, a per-host storage path and VNC on loopback", () => {
    expect(parseLibvirtConfig("h1", {})).toMatchObject({
      uri: "qemu:///system",
      storagePath: "/var/lib/griddesk/h1",
      vncListen: "127.0.0.1",
      endpointHost: "127.0.0.1",
      domainType: "qemu",
    });
    expect(parseLibvirtConfig("h1", { domainType: "kvm" }).domainType).toBe("kvm");
  });

  it.each([
    [{ storagePath: "relative/dir" }, "storagePath"],
    [{ uri: "not a uri" }, "uri"],
    [{ imageCacheMinFreeBytes: -1 }, "imageCacheMinFreeBytes"],
    [{ colour: "blue" }, "colour"],
    [{ domainType: "xen" }, "domainType"],
  ])("refuses %j with InvalidHostConfig naming the field", (settings, field) => {
    expect(() => parseLibvirtConfig("h1", settings)).toThrow(
      expect.objectContaining({ reason: "InvalidHostConfig", message: expect.stringContaining(field) }),
    );
  });
});
