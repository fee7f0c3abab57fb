// Adding and removing a finalizer as a resourceVersion-checked JSON patch, so a concurrent
// writer's finalizer is never lost (the pitfall of replacing the list blindly).
import type { Cached, KubeObject, ObjectClient } from "../../runtime/index.js";

export function hasFinalizer(obj: Cached<KubeObject>, finalizer: string): boolean {
  return obj.metadata.finalizers?.includes(finalizer) ?? false;
}

export async function addFinalizer<T extends KubeObject>(
  client: ObjectClient<T>,
  obj: Cached<T>,
  finalizer: string,
): Promise<T> {
  const list = [...(obj.metadata.finalizers ?? []), finalizer];
  return client.jsonPatch(obj.metadata, [
    { op: "test", path: "/metadata/resourceVersion", value: obj.metadata.resourceVersion },
    { op: "add", path: "/metadata/finalizers", value: list },
  ]);
}

/** Resolves undefined when the object is already gone (removing the last finalizer deletes it). */
export async function removeFinalizer<T extends KubeObject>(
  client: ObjectClient<T>,
  obj: Cached<T>,
  finalizer: string,
): Promise<T | undefined> {
  if (!hasFinalizer(obj, finalizer)) return undefined;
  const list = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
  return client.jsonPatch(obj.metadata, [
    { op: "test", path: "/metadata/resourceVersion", value: obj.metadata.resourceVersion },
    { op: "replace", path: "/metadata/finalizers", value: list },
  ]);
}
