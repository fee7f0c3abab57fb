// The griddesk.io/v1alpha1 API in one import: generated types, constants, condition vocabulary.
export * from "./constants.js";
export * from "./conditions.js";
export * from "./types.generated.js";
export { toKubeTime } from "./time.js";
export { buildCrd, crdName } from "./crd.js";
export type { CustomResourceDefinition } from "./crd.js";
export {
  DESKTOP_PHASES,
  HYPERVISOR_TYPES,
  kindDefinitions,
  SESSION_END_REASONS,
  SESSION_PHASES,
} from "./schema/index.js";
