// libvirt through `virsh`, one subprocess per call (argv only, no shell). Why not bindings: no
// new npm packages (native bindings need a compiler and libvirt-dev on every host), and the
// calls the adapter makes are few per desktop; bench/libvirt-provision.ts measures the cost.
// Each method maps virsh's text to a typed answer; "no such domain" is an answer, not an error.
import { CommandError, runCommand } from "../../volumes/command.js";
import { AdapterError } from "../errors.js";

export interface DomainListing {
  readonly name: string;
  /** virsh's words: running, paused, shut off, in shutdown, crashed, pmsuspended, idle. */
  readonly state: string;
}

const NOT_FOUND = /failed to get domain|Domain not found|no domain with matching/i;
const UNREACHABLE =
  /failed to connect to the hypervisor|Cannot recv data|Broken pipe|End of file while reading/i;
const NO_METADATA = /metadata not found|Requested metadata element is not present/i;

export class Virsh {
  constructor(
    readonly uri: string,
    private readonly timeoutMs: number,
  ) {}

  /** Runs `virsh -q -c <uri> ...args`; HostUnreachable when libvirtd does not answer. */
  async run(args: readonly string[]): Promise<string> {
    try {
      return await runCommand("virsh", ["-q", "-c", this.uri, ...args], { timeoutMs: this.timeoutMs });
    } catch (err) {
      if (err instanceof CommandError && (err.timedOut || UNREACHABLE.test(err.stderr)))
        throw new AdapterError("HostUnreachable", `libvirt at ${this.uri}: ${err.message}`, { cause: err });
      throw err;
    }
  }

  /** Like run, but null when the domain does not exist. */
  private async onDomain(args: readonly string[]): Promise<string | null> {
    try {
      return await this.run(args);
    } catch (err) {
      if (err instanceof CommandError && NOT_FOUND.test(err.stderr)) return null;
      throw err;
    }
  }

  async version(): Promise<{ libvirt: string; hypervisor: string }> {
    const out = await this.run(["version"]);
    return {
      libvirt: /Using library: (.+)/.exec(out)?.[1]?.trim() ?? "libvirt",
      hypervisor: /Running hypervisor: (.+)/.exec(out)?.[1]?.trim() ?? "unknown",
    };
  }

  async nodeinfo(): Promise<{ cpus: number; memoryBytes: number }> {
    const out = await this.run(["nodeinfo"]);
    const cpus = Number(/^CPU\(s\):\s+(\d+)/m.exec(out)?.[1]);
    const kib = Number(/^Memory size:\s+(\d+) KiB/m.exec(out)?.[1]);
    if (!(cpus > 0 && kib > 0)) throw new Error(`unexpected virsh nodeinfo output: ${out}`);
    return { cpus, memoryBytes: kib * 1024 };
  }

  /** The host CPU's model and vendor from `virsh capabilities`. */
  async hostCpu(): Promise<{ model: string; vendor: string }> {
    const out = await this.run(["capabilities"]);
    const cpu = /<host>[\s\S]*?<cpu>([\s\S]*?)<\/cpu>/.exec(out)?.[1] ?? "";
    return {
      model: /<model>([^<]+)<\/model>/.exec(cpu)?.[1] ?? /<arch>([^<]+)<\/arch>/.exec(cpu)?.[1] ?? "unknown",
      vendor: /<vendor>([^<]+)<\/vendor>/.exec(cpu)?.[1] ?? "unknown",
    };
  }

  /** Every domain, running or defined. */
  async list(): Promise<DomainListing[]> {
    const out = await this.run(["list", "--all"]);
    const domains: DomainListing[] = [];
    for (const line of out.split("\n")) {
      const m = /^\s*(\S+)\s+(\S+)\s+(\S.*?)\s*$/.exec(line);
      if (m !== null) domains.push({ name: m[2] as string, state: m[3] as string });
    }
    return domains;
  }

  /** The domain's state in virsh's words, or null when there is no such domain. */
  async state(name: string): Promise<string | null> {
    return (await this.onDomain(["domstate", name]))?.trim() ?? null;
  }

  /** The VNC port, or null without a domain or a VNC display. */
  async vncPort(name: string): Promise<number | null> {
    const out = await this.onDomain(["vncdisplay", name]);
    const display = /:(\d+)\s*$/.exec(out ?? "")?.[1];
    return display === undefined ? null : 5900 + Number(display);
  }

  async uuid(name: string): Promise<string | null> {
    return (await this.onDomain(["domuuid", name]))?.trim() || null;
  }

  /** The domain's metadata element in namespace `ns`, or null (no domain, or none of ours). */
  async metadata(name: string, ns: string): Promise<string | null> {
    try {
      return await this.onDomain(["metadata", name, ns]);
    } catch (err) {
      if (err instanceof CommandError && NO_METADATA.test(err.stderr)) return null;
      throw err;
    }
  }

  /** Starts a transient domain from an XML file. */
  async create(xmlFile: string): Promise<void> {
    await this.run(["create", xmlFile]);
  }

  /** The domain's disks as it runs now, or null when there is no such domain. */
  async disks(name: string): Promise<DomainDisk[] | null> {
    const xml = await this.onDomain(["dumpxml", name]);
    return xml === null ? null : parseDisks(xml);
  }

  /** Hot-plugs a qcow2 file as virtio disk `target` of the running domain, with `serial` for the guest. */
  async attachDisk(name: string, file: string, target: string, serial: string): Promise<void> {
    await this.run([
      "attach-disk",
      name,
      file,
      target,
      "--driver",
      "qemu",
      "--subdriver",
      "qcow2",
      "--targetbus",
      "virtio",
      "--serial",
      serial,
      "--live",
    ]);
  }

  /** Asks the guest to let go of disk `target` (it may take a moment after this returns). */
  async detachDisk(name: string, target: string): Promise<void> {
    await this.run(["detach-disk", name, target, "--live"]);
  }

  /**
   * A disk-only external snapshot of disk `target` onto `file`, an overlay made beforehand
   * (--reuse-external: libvirt would otherwise make it with an absolute backing path, which a
   * version published to the store must not carry); every other disk is left out. No metadata
   * is kept: libvirt forgets the snapshot, and the domain simply runs on the new file.
   */
  async snapshotDisk(name: string, target: string, file: string, others: readonly string[]): Promise<void> {
    await this.run([
      "snapshot-create-as",
      name,
      "--disk-only",
      "--no-metadata",
      "--atomic",
      "--reuse-external",
      "--diskspec",
      `${target},snapshot=external,driver=qcow2,file=${file.replaceAll(",", ",,")}`,
      ...others.flatMap((t) => ["--diskspec", `${t},snapshot=no`]),
    ]);
  }

  /** Stops and (being transient) removes the domain; false when there was none. */
  async destroy(name: string): Promise<boolean> {
    try {
      return (await this.onDomain(["destroy", name])) !== null;
    } catch (err) {
      if (err instanceof CommandError && /domain is not running/i.test(err.stderr)) return false;
      throw err;
    }
  }
}

/** A disk of a domain as its live XML has it. */
export interface DomainDisk {
  readonly target: string;
  readonly serial?: string;
  readonly file?: string;
}

/** The <disk> elements of a domain's XML: target device, serial and source file. */
export function parseDisks(xml: string): DomainDisk[] {
  const disks: DomainDisk[] = [];
  for (const [, body] of xml.matchAll(/<disk\b[^>]*>([\s\S]*?)<\/disk>/g)) {
    const target = /<target\b[^>]*\bdev=['"]([^'"]+)['"]/.exec(body ?? "")?.[1];
    if (target === undefined) continue;
    const serial = /<serial>([^<]*)<\/serial>/.exec(body ?? "")?.[1];
    const file = /<source\b[^>]*\bfile=['"]([^'"]+)['"]/.exec(body ?? "")?.[1];
    disks.push({
      target,
      ...(serial !== undefined ? { serial } : {}),
      ...(file !== undefined ? { file } : {}),
    });
  }
  return disks;
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof CommandError && /already exists/i.test(err.stderr);
}
