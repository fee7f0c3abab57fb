// Map functions for Controller.watch: which reconcile requests an object event causes.
import type { KubeObject } from "./resource.js";
import type { Request } from "./reconcile.js";
import type { Cached } from "./store.js";

export type MapFunc<T extends KubeObject> = (obj: Cached<T>) => Request[];

/** The object itself (controller-runtime's For()). */
export function ownObject<T extends KubeObject>(obj: Cached<T>): Request[] {
  const { namespace, name } = obj.metadata;
  return [namespace ? { namespace, name } : { name }];
}

/**
 * The object's controlling owner, if it is of the given kind and API group (Owns()). A
 * namespaced owner lives in the object's namespace; pass ownerNamespaced=false for a
 * cluster-scoped owner.
 */
export function controllerOwner<T extends KubeObject>(
  kind: string,
  group: string,
  ownerNamespaced = true,
): MapFunc<T> {
  return (obj) => {
    const ref = obj.metadata.ownerReferences?.find(
      (r) => r.controller === true && r.kind === kind && groupOf(r.apiVersion) === group,
    );
    if (!ref) return [];
    const namespace = ownerNamespaced ? obj.metadata.namespace : undefined;
    return [namespace ? { namespace, name: ref.name } : { name: ref.name }];
  };
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}
