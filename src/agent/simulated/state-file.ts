// A simulated host's state as a JSON document, so that a simulated agent killed and restarted
// over the same state directory still "has" the VMs it made, as a real host would.
// Records are plain data whose state is a function of the clock (see SimulatedHostState), so
// saving them is enough: a VM provisioning at the crash is running (or failed) after it.
import type { ImageRef, VmResources } from "../../hypervisors/index.js";
import {
  SimulatedHostState,
  type SimulatedImage,
  type SimulatedVm,
} from "../../hypervisors/simulated/index.js";

export const STATE_FILE_VERSION = 1;

export interface SimulatedStateFile {
  readonly version: typeof STATE_FILE_VERSION;
  readonly host: string;
  readonly pullsStarted: number;
  readonly vms: readonly SimulatedVm[];
  readonly images: readonly SimulatedImage[];
}

export function toStateFile(host: string, state: SimulatedHostState): SimulatedStateFile {
  return {
    version: STATE_FILE_VERSION,
    host,
    pullsStarted: state.pullsStarted,
    vms: [...state.vms.values()].map((vm) => structuredClone(vm)),
    images: [...state.images.values()].map((image) => structuredClone(image)),
  };
}

/** Rebuilds the state; throws with the field named when the document is not a state file. */
export function fromStateFile(doc: unknown): SimulatedHostState {
  const file = doc as Partial<SimulatedStateFile> | null;
  if (file?.version !== STATE_FILE_VERSION) {
    throw new Error(`unsupported state file version ${JSON.stringify(file?.version)}`);
  }
  if (!Array.isArray(file.vms) || !Array.isArray(file.images))
    throw new Error("state file needs vms and images");
  const state = new SimulatedHostState();
  for (const vm of file.vms) state.vms.set(vm.domain, checkVm(vm));
  for (const image of file.images) state.images.set(image.ref.sha256, checkImage(image));
  state.pullsStarted = file.pullsStarted ?? 0;
  reserveDisplays(
    state,
    [...state.vms.values()].map((vm) => vm.display),
  );
  return state;
}

/** Makes the host's display allocator skip the displays the loaded VMs use (ports stay unique). */
function reserveDisplays(state: SimulatedHostState, used: readonly number[]): void {
  const top = used.length === 0 ? 0 : Math.max(...used) + 1;
  for (let d = 0; d < top; d++) state.allocateDisplay(); // 0 .. top-1, in order, on a fresh state
  const taken = new Set(used);
  for (let d = top - 1; d >= 0; d--) if (!taken.has(d)) state.releaseDisplay(d);
}

function checkVm(vm: SimulatedVm): SimulatedVm {
  const numbers = [vm.display, vm.createdAt, vm.readyAt];
  if (typeof vm.domain !== "string" || !numbers.every(Number.isFinite) || !isResources(vm.resources)) {
    throw new Error(`state file has a malformed VM record ${JSON.stringify(vm.domain)}`);
  }
  return vm;
}

function checkImage(image: SimulatedImage): SimulatedImage {
  const ref = image.ref as Partial<ImageRef> | undefined;
  if (typeof ref?.sha256 !== "string" || !Number.isFinite(image.readyAt)) {
    throw new Error("state file has a malformed image record");
  }
  return image;
}

function isResources(r: VmResources | undefined): boolean {
  return r !== undefined && [r.cpuMilli, r.memoryBytes, r.diskBytes].every(Number.isFinite);
}
