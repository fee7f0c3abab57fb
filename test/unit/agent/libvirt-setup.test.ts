import { describe, expect, it } from "@jest/globals";
import { libvirtAgentSetup } from "../../../src/agent/libvirt/setup.js";
import { parseLibvirtConfig } from "../../../src/hypervisors/libvirt/config.js";
import { DENY_ALL } from "../../../src/volumes/index.js";

describe("libvirtAgentSetup", () => {
  it("turns the agent's flags into per-host settings the adapter's config accepts", () => {
    const { hosts } = libvirtAgentSetup({
      hosts: ["hv-1", "hv-2"],
      storagePath: "/var/lib/griddesk",
      vncListen: "0.0.0.0",
      endpointHost: "hv.example.org",
      domainType: "kvm",
      sources: DENY_ALL,
    });
    expect(hosts.map((h) => h.name)).toEqual(["hv-1", "hv-2"]);
    const config = parseLibvirtConfig("hv-2", hosts[1]?.overrides ?? {});
    expect(config).toMatchObject({
      storagePath: "/var/lib/griddesk/hv-2",
      vncListen: "0.0.0.0",
      endpointHost: "hv.example.org",
      domainType: "kvm",
    });
  });

  it("leaves unset flags to the config's defaults (TCG domains, the host's own libvirtd)", () => {
    const { hosts } = libvirtAgentSetup({ hosts: ["hv-1"], sources: DENY_ALL });
    expect(parseLibvirtConfig("hv-1", hosts[0]?.overrides ?? {})).toMatchObject({
      uri: "qemu:///system",
      domainType: "qemu",
      storagePath: "/var/lib/griddesk/hv-1",
    });
  });

  it("confines a HostNode's URI to the host's own libvirtd unless the agent's admin allowed another", () => {
    for (const uri of ["qemu+ssh://root@elsewhere/system", "qemu+ext:///system?command=/bin/sh"])
      expect(() => parseLibvirtConfig("hv-1", { uri })).toThrow(
        expect.objectContaining({
          reason: "InvalidHostConfig",
          message: expect.stringContaining("spec.hypervisor.libvirt.uri"),
        }),
      );
    expect(parseLibvirtConfig("hv-1", { uri: "qemu:///session" }).uri).toBe("qemu:///session");
    const remote = "qemu+ssh://root@hv-1.example.org/system";
    expect(parseLibvirtConfig("hv-1", { uri: remote }, [remote]).uri).toBe(remote);
  });
});
