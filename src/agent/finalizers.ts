// Finalizer writes on a Desktop, as resourceVersion-checked JSON patches: a stale cache makes
// them fail (and the reconcile retry on the fresh object) rather than drop someone's finalizer.
import type { Desktop } from "../api/index.js";
import type { Cached, JsonPatchOp, ObjectClient } from "../runtime/index.js";

function checked(desktop: Cached<Desktop>, op: JsonPatchOp): JsonPatchOp[] {
  return [{ op: "test", path: "/metadata/resourceVersion", value: desktop.metadata.resourceVersion }, op];
}

function ref(desktop: Cached<Desktop>): { namespace?: string; name: string } {
  return { namespace: desktop.metadata.namespace, name: desktop.metadata.name as string };
}

export function hasFinalizer(desktop: Cached<Desktop>, finalizer: string): boolean {
  return desktop.metadata.finalizers?.includes(finalizer) ?? false;
}

export async function addFinalizer(
  client: ObjectClient<Desktop>,
  desktop: Cached<Desktop>,
  finalizer: string,
): Promise<void> {
  const op: JsonPatchOp = desktop.metadata.finalizers
    ? { op: "add", path: "/metadata/finalizers/-", value: finalizer }
    : { op: "add", path: "/metadata/finalizers", value: [finalizer] };
  await client.jsonPatch(ref(desktop), checked(desktop, op));
}

/** Removes every occurrence of `finalizer`; a no-op when there is none. */
export async function removeFinalizer(
  client: ObjectClient<Desktop>,
  desktop: Cached<Desktop>,
  finalizer: string,
): Promise<void> {
  const finalizers = desktop.metadata.finalizers ?? [];
  if (!finalizers.includes(finalizer)) return;
  const value = finalizers.filter((f) => f !== finalizer);
  await client.jsonPatch(
    ref(desktop),
    checked(desktop, { op: "replace", path: "/metadata/finalizers", value }),
  );
}
