// One status write per reconcile, at the end, and only when something changed. Writes are
// merge patches of the fields the caller owns, because a status has more than one writer
// (a HostNode's agent reports facts while the controller keeps conditions; a broker reports a
// session's activity while the controller keeps its phase).
import { isDeepStrictEqual } from "node:util";
import type { Cached, KubeObject, ObjectClient } from "../../runtime/index.js";

interface WithStatus extends KubeObject {
  status?: object;
}

/** Fields to set; `null` removes a field (merge-patch semantics). */
export type StatusPatch<S> = { [K in keyof S]?: S[K] | null };

/**
 * Merge-patches `patch` into obj's status subresource unless every field already equals the
 * cached value. Returns the written object, or undefined when nothing needed writing.
 */
export async function patchStatusIfChanged<T extends WithStatus>(
  client: ObjectClient<T>,
  cached: Cached<T>,
  patch: StatusPatch<NonNullable<T["status"]>>,
): Promise<T | undefined> {
  const current = (cached.status ?? {}) as Record<string, unknown>;
  const changed = Object.entries(patch).some(([key, value]) => !sameValue(current[key], value));
  if (!changed) return undefined;
  return client.mergePatch(cached.metadata, { status: patch }, { subresource: "status" });
}

function sameValue(current: unknown, wanted: unknown): boolean {
  if (wanted === null || wanted === undefined) return current === undefined || current === null;
  return isDeepStrictEqual(stripUndefined(current), stripUndefined(wanted));
}

/** JSON round trip: undefined fields vanish, as they would on the wire. */
export function stripUndefined<T>(value: T): T {
  return value === undefined ? value : (JSON.parse(JSON.stringify(value)) as T);
}
