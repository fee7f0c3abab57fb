// The host's facts from libvirt (CPU model and vendor, cores, memory, hypervisor version) and
// its local storage from statfs of the storage directory. The libvirt part never changes while
// the daemon runs, so it is read once per adapter; storage is read every time.
import { statfs } from "node:fs/promises";
import type { HostFacts } from "../adapter.js";
import type { Virsh } from "./virsh.js";

export const LIBVIRT_ADAPTER_VERSION = "griddesk-libvirt/0.1.0";

export type StaticFacts = Omit<HostFacts, "localStorageBytes">;

export async function readStaticFacts(virsh: Virsh): Promise<StaticFacts> {
  const [node, cpu, version] = await Promise.all([virsh.nodeinfo(), virsh.hostCpu(), virsh.version()]);
  return {
    cpuModel: cpu.model,
    cpuVendor: cpu.vendor,
    cores: node.cpus,
    memoryBytes: node.memoryBytes,
    hypervisorVersion: `${version.hypervisor} / ${version.libvirt}`,
    adapterVersion: LIBVIRT_ADAPTER_VERSION,
  };
}

/** Total size of the file system holding `dir` (capacity; placement subtracts what desktops take). */
export async function localStorageBytes(dir: string): Promise<number> {
  const fs = await statfs(dir);
  return fs.blocks * fs.bsize;
}
