// The hypervisor seam: the adapter interface, its errors, the registry. See CONTRACT.md.
export * from "./adapter.js";
export * from "./errors.js";
export { systemClock, type Clock } from "./clock.js";
export { AdapterRegistry, type AdapterFactory, type HostConfig } from "./registry.js";
export {
  validateDisk,
  validateIdentity,
  validateImageRef,
  validateSerial,
  validateVmSpec,
} from "./validate.js";
export { untilAborted } from "./abort.js";
