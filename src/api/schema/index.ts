// The five kinds of griddesk.io/v1alpha1, in the order the generator writes them.
import { desktop } from "./desktop.js";
import { desktopProfile } from "./desktopprofile.js";
import { desktopPool } from "./desktoppool.js";
import { desktopSession } from "./desktopsession.js";
import { hostNode } from "./hostnode.js";
import type { KindDefinition } from "./openapi.js";

export const kindDefinitions: readonly KindDefinition[] = [
  hostNode,
  desktopPool,
  desktop,
  desktopSession,
  desktopProfile,
];

export type { KindDefinition, PrinterColumn, Schema, ValidationRule } from "./openapi.js";
export { DESKTOP_PHASES } from "./desktop.js";
export { PROFILE_STATES } from "./desktopprofile.js";
export { CONCURRENT_SESSION_POLICIES } from "./desktoppool.js";
export { SESSION_END_REASONS, SESSION_PHASES } from "./desktopsession.js";
export { HYPERVISOR_TYPES } from "./primitives.js";
