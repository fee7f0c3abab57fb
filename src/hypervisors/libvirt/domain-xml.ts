// The libvirt domain of a desktop, as pure functions: its XML (type qemu, the overlay as vda,
// optional direct kernel boot, VNC on the configured address, the serial port for notices) and
// the griddesk metadata element that names its Desktop, written at creation and read back by `list` after any restart.
import type { DesktopIdentity, Firmware, VmResources } from "../adapter.js";
import type { DomainType } from "./config.js";

export const METADATA_NS = "https://griddesk.io/xmlns/desktop/v1";
const PREFIX = "gd-";

export interface KernelBoot {
  readonly kernel: string;
  readonly initrd?: string;
  readonly cmdline?: string;
}

/** What the metadata element records: enough to report the VM with no other file. */
export interface DomainOwner {
  readonly id: DesktopIdentity;
  readonly resources: VmResources;
  readonly imageSha256: string;
  readonly createdAt: number;
}

export interface DomainSpec extends DomainOwner {
  readonly overlay: string;
  readonly vncListen: string;
  /** `qemu` (TCG) or `kvm`; the host's config decides (LibvirtHostConfig.domainType). */
  readonly domainType: DomainType;
  readonly firmware?: Firmware;
  /** Local paths of the kernel and initrd. */
  readonly boot?: KernelBoot;
  /** The UNIX socket for the first serial port, where notices are written (notice-channel.ts). */
  readonly noticeSocket?: string;
  /** VNC authentication's password; none: the VNC server asks for none. */
  readonly consolePassword?: string;
}

export function domainName(uid: string): string {
  return `${PREFIX}${uid}`;
}

/** The uid a griddesk domain name carries, or undefined for any other name. */
export function uidOfDomain(name: string): string | undefined {
  return name.startsWith(PREFIX) ? name.slice(PREFIX.length) : undefined;
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function metadataXml(o: DomainOwner): string {
  const attrs: [string, string | number][] = [
    ["namespace", o.id.namespace],
    ["name", o.id.name],
    ["uid", o.id.uid],
    ["image-sha256", o.imageSha256],
    ["created-at", o.createdAt],
    ["cpu-milli", o.resources.cpuMilli],
    ["memory-bytes", o.resources.memoryBytes],
    ["disk-bytes", o.resources.diskBytes],
  ];
  const list = attrs.map(([k, v]) => `${k}="${escapeXml(String(v))}"`).join(" ");
  return `<griddesk:desktop xmlns:griddesk="${METADATA_NS}" ${list}/>`;
}

export function domainXml(d: DomainSpec): string {
  const e = escapeXml;
  const kib = Math.ceil(d.resources.memoryBytes / 1024);
  const vcpus = Math.max(1, Math.ceil(d.resources.cpuMilli / 1000));
  const boot = d.boot
    ? [
        `    <kernel>${e(d.boot.kernel)}</kernel>`,
        ...(d.boot.initrd ? [`    <initrd>${e(d.boot.initrd)}</initrd>`] : []),
        ...(d.boot.cmdline ? [`    <cmdline>${e(d.boot.cmdline)}</cmdline>`] : []),
      ]
    : ["    <boot dev='hd'/>"];
  return [
    `<domain type='${d.domainType}'>`,
    `  <name>${domainName(d.id.uid)}</name>`,
    `  <title>${e(`${d.id.namespace}/${d.id.name}`)}</title>`,
    `  <metadata>${metadataXml(d)}</metadata>`,
    `  <memory unit='KiB'>${kib}</memory>`,
    `  <vcpu>${vcpus}</vcpu>`,
    `  <os${d.firmware === "uefi" ? " firmware='efi'" : ""}>`,
    `    <type arch='x86_64' machine='pc'>hvm</type>`,
    ...boot,
    `  </os>`,
    `  <features><acpi/></features>`,
    `  <on_poweroff>destroy</on_poweroff>`,
    `  <on_reboot>restart</on_reboot>`,
    `  <on_crash>destroy</on_crash>`,
    `  <devices>`,
    `    <disk type='file' device='disk'>`,
    `      <driver name='qemu' type='qcow2'/>`,
    `      <source file='${e(d.overlay)}'/>`,
    `      <target dev='vda' bus='virtio'/>`,
    `    </disk>`,
    ...(d.noticeSocket
      ? [
          `    <serial type='unix'>`,
          `      <source mode='bind' path='${e(d.noticeSocket)}'/>`,
          `      <target port='0'/>`,
          `    </serial>`,
        ]
      : []),
    `    <graphics type='vnc' port='-1' autoport='yes' listen='${e(d.vncListen)}'${
      d.consolePassword ? ` passwd='${e(d.consolePassword)}'` : ""
    }/>`,
    `    <video><model type='vga'/></video>`,
    `  </devices>`,
    `</domain>`,
    ``,
  ].join("\n");
}

const NAMED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

export function unescapeXml(value: string): string {
  return value.replace(/&(#\d+|#x[0-9a-f]+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith("#x") || ref.startsWith("#X")) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith("#")) return String.fromCodePoint(Number(ref.slice(1)));
    return NAMED[ref] ?? whole;
  });
}

/** Reads the metadata element back (as `virsh metadata` prints it); null when it is not ours. */
export function parseDomainOwner(xml: string): DomainOwner | null {
  const attr = (name: string): string | undefined => {
    const m = new RegExp(`\\s${name}="([^"]*)"`).exec(xml);
    return m?.[1] === undefined ? undefined : unescapeXml(m[1]);
  };
  const [namespace, name, uid, sha] = ["namespace", "name", "uid", "image-sha256"].map(attr);
  if (!namespace || !name || !uid || !sha) return null;
  const n = (key: string): number => Number(attr(key) ?? 0);
  return {
    id: { namespace, name, uid },
    imageSha256: sha,
    createdAt: n("created-at"),
    resources: { cpuMilli: n("cpu-milli"), memoryBytes: n("memory-bytes"), diskBytes: n("disk-bytes") },
  };
}
