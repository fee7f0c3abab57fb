// Orphans: VMs the adapter lists that no Desktop bound to the host accounts for (the Desktop was
// force-deleted, or the agent died between a deletion and its cleanup). Selection is pure; the
// collector confirms each candidate with a fresh read before destroying anything.
import type { VmStatus } from "../hypervisors/index.js";

/** What the cache knows about the Desktop with a given uid. */
export type DesktopLookup = (uid: string) => { readonly hostRef?: string } | undefined;

/** VMs on `host` whose uid matches no cached Desktop placed on `host`. */
export function selectOrphans(host: string, vms: readonly VmStatus[], lookup: DesktopLookup): VmStatus[] {
  return vms.filter((vm) => lookup(vm.id.uid)?.hostRef !== host);
}

/** "team-a/desk-1 (uid …)" lines for the OrphanRemoved Event. */
export function describeOrphans(vms: readonly VmStatus[], max = 10): string {
  const names = vms.slice(0, max).map((vm) => `${vm.id.namespace}/${vm.id.name} (uid ${vm.id.uid})`);
  const more = vms.length > max ? ` and ${vms.length - max} more` : "";
  return `${names.join(", ")}${more}`;
}
