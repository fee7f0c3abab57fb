// How a simulated record reads at a given moment. Pure: state is a function of the clock.
import type { DesktopIdentity, HostFacts, ImageStatus, VmStatus } from "../adapter.js";
import type { SimulatedHostConfig } from "./config.js";
import type { SimulatedImage, SimulatedVm } from "./state.js";

export const SIMULATED_ADAPTER_VERSION = "0.1.0";
const VNC_BASE_PORT = 5900;

export function simulatedHostFacts(config: SimulatedHostConfig): HostFacts {
  const { cpuModel, cpuVendor, cores, memoryBytes, localStorageBytes, profile } = config;
  const hypervisorVersion = `griddesk-simulated ${SIMULATED_ADAPTER_VERSION} (profile ${profile})`;
  const adapterVersion = SIMULATED_ADAPTER_VERSION;
  return { cpuModel, cpuVendor, cores, memoryBytes, localStorageBytes, hypervisorVersion, adapterVersion };
}

export function simulatedImageStatus(image: SimulatedImage, now: number): ImageStatus {
  return { ...image.ref, state: now >= image.readyAt ? "ready" : "pulling", sizeBytes: image.sizeBytes };
}

/**
 * The endpoint host is `<host>.sim.invalid`: unique per host, and under the reserved `.invalid`
 * TLD so that no client can ever reach something real by mistake.
 */
export function simulatedVmStatus(
  vm: SimulatedVm,
  now: number,
  hostName: string,
  config: Pick<SimulatedHostConfig, "storagePath" | "failureRate">,
): VmStatus {
  const base = {
    id: vm.owner as DesktopIdentity,
    resources: vm.resources,
    imageSha256: vm.imageSha256,
    createdAt: vm.createdAt,
    overlayPath: `${config.storagePath}/overlays/${vm.domain}.qcow2`,
    vmId: vm.domain,
  };
  if (now < vm.readyAt) return { ...base, state: "provisioning" };
  if (vm.fails) {
    const message = `simulated provisioning failure (failureRate ${config.failureRate})`;
    return { ...base, state: "failed", reason: "ProvisioningFailed", message };
  }
  const endpoint = {
    protocol: "vnc" as const,
    host: `${hostName}.sim.invalid`,
    port: VNC_BASE_PORT + vm.display,
  };
  return { ...base, state: "running", endpoint };
}
