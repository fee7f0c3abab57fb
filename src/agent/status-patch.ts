// A merge patch over the status fields one writer owns: changed fields are set, fields the
// writer no longer wants are removed with null, and fields other writers own are left out.
import { isDeepStrictEqual } from "node:util";
import type { DesktopStatus } from "../api/index.js";
import type { DeepReadonly } from "../runtime/index.js";

/** The Desktop status fields the agent writes; the controller may write phase Failed too. */
export const AGENT_DESKTOP_FIELDS = [
  "phase",
  "conditions",
  "endpoint",
  "vmId",
  "overlayPath",
  "message",
  "provisionedAt",
  "observedGeneration",
  "profile",
] as const satisfies readonly (keyof DesktopStatus)[];

export function fieldPatch<T extends object>(
  current: DeepReadonly<T> | undefined,
  desired: T,
  fields: readonly (keyof T)[],
): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  for (const field of fields) {
    const was = wire((current as T | undefined)?.[field]);
    const want = wire(desired[field]);
    if (isDeepStrictEqual(was, want)) continue;
    patch[field as string] = want === undefined ? null : want;
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

function wire(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}
