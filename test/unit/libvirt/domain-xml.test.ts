import { describe, expect, it } from "@jest/globals";
import { domainXml, parseDomainOwner, uidOfDomain } from "../../../src/hypervisors/libvirt/domain-xml.js";

const owner = {
  id: { namespace: "team-a", name: "desk-1", uid: "0b7c2f5e-1111-2222-3333-444455556666" },
  resources: { cpuMilli: 1500, memoryBytes: 512 * 2 ** 20, diskBytes: 2 ** 30 },
  imageSha256: "a".repeat(64),
  createdAt: 1_700_000_000_000,
};

describe("domain XML", () => {
  const xml = domainXml({
    ...owner,
    overlay: "/var/lib/griddesk/overlays/x&y.qcow2",
    vncListen: "127.0.0.1",
    domainType: "qemu",
    boot: { kernel: "/boot/vmlinuz", initrd: "/boot/initrd.gz", cmdline: "console=tty0 'quoted'" },
  });

  it("is a transient qemu domain named by the uid, sized by the spec, VNC on the listen address", () => {
    expect(xml).toContain("<domain type='qemu'>");
    expect(xml).toContain(`<name>gd-${owner.id.uid}</name>`);
    expect(xml).toContain("<memory unit='KiB'>524288</memory>");
    expect(xml).toContain("<vcpu>2</vcpu>");
    expect(xml).toContain("<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1'/>");
    expect(xml).toContain("<target dev='vda' bus='virtio'/>");
  });

  it("is a kvm domain when the host is configured for hardware virtualisation", () => {
    const kvm = domainXml({ ...owner, overlay: "/o.qcow2", vncListen: "127.0.0.1", domainType: "kvm" });
    expect(kvm).toContain("<domain type='kvm'>");
  });

  it("boots the kernel directly and escapes what it writes", () => {
    expect(xml).toContain("<kernel>/boot/vmlinuz</kernel>");
    expect(xml).toContain("<cmdline>console=tty0 &#39;quoted&#39;</cmdline>");
    expect(xml).toContain("x&#38;y.qcow2");
    expect(xml).not.toContain("<boot dev='hd'/>");
  });

  it("carries the Desktop's identity in griddesk metadata, read back as virsh prints it", () => {
    const printed = /<griddesk:desktop [^>]*\/>/
      .exec(xml)?.[0]
      .replace("griddesk:desktop xmlns:griddesk", "desktop xmlns");
    expect(parseDomainOwner(printed as string)).toEqual(owner);
    expect(parseDomainOwner("<other a='b'/>")).toBeNull();
  });

  it("gives the first serial port a UNIX socket for notices, only when asked", () => {
    expect(xml).not.toContain("<serial");
    const withNotices = domainXml({
      ...owner,
      overlay: "/o.qcow2",
      vncListen: "127.0.0.1",
      domainType: "qemu",
      noticeSocket: "/var/lib/griddesk/notices/u.sock",
    });
    expect(withNotices).toContain("<serial type='unix'>");
    expect(withNotices).toContain("<source mode='bind' path='/var/lib/griddesk/notices/u.sock'/>");
    expect(withNotices).toContain("<target port='0'/>");
  });

  it("asks for a VNC password only when given one", () => {
    const base = { ...owner, overlay: "/o.qcow2", vncListen: "127.0.0.1", domainType: "qemu" as const };
    expect(domainXml(base)).not.toContain("passwd=");
    expect(domainXml({ ...base, consolePassword: "Ab3dEf9h" })).toContain(
      "<graphics type='vnc' port='-1' autoport='yes' listen='127.0.0.1' passwd='Ab3dEf9h'/>",
    );
  });

  it("maps domain names to uids only for griddesk's names", () => {
    expect(uidOfDomain(`gd-${owner.id.uid}`)).toBe(owner.id.uid);
    expect(uidOfDomain("win11-by-hand")).toBeUndefined();
  });
});
