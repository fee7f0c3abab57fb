// What the runtime needs to know about a resource to list, watch and write it, and the
// object shape it works with. Objects are kept in their wire (JSON) form: a list, a watch
// event and a write all return the same shape, for core kinds and custom resources alike.

/** Identifies a resource in the API: `group` is "" for the core group (ConfigMaps, Pods). */
export interface ResourceRef {
  group: string;
  version: string;
  /** Lower-case plural, as in URLs and RBAC rules. */
  plural: string;
  namespaced: boolean;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** metadata as sent on the wire (timestamps are RFC 3339 strings, not Dates). */
export interface ObjectMeta {
  name: string;
  namespace?: string;
  generateName?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: unknown[];
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface KubeList<T extends KubeObject> {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** A reconcile request: which object, never what happened to it (level-triggered). */
export interface ObjectName {
  namespace?: string;
  name: string;
}

export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === "" ? ref.version : `${ref.group}/${ref.version}`;
}

/** `/api/v1/namespaces/ns/configmaps`, `/apis/griddesk.io/v1alpha1/hostnodes`, ... */
export function collectionPath(ref: ResourceRef, namespace?: string): string {
  const root = ref.group === "" ? `/api/${ref.version}` : `/apis/${ref.group}/${ref.version}`;
  if (ref.namespaced && namespace) return `${root}/namespaces/${encodeURIComponent(namespace)}/${ref.plural}`;
  return `${root}/${ref.plural}`;
}

export function objectPath(ref: ResourceRef, obj: ObjectName, subresource?: string): string {
  if (ref.namespaced && !obj.namespace)
    throw new Error(`${ref.plural} is namespaced: ${obj.name} needs a namespace`);
  const base = `${collectionPath(ref, obj.namespace)}/${encodeURIComponent(obj.name)}`;
  return subresource ? `${base}/${subresource}` : base;
}

/** The cache and work-queue key: `namespace/name`, or `name` for cluster-scoped objects. */
export function keyOf(obj: ObjectName): string {
  return obj.namespace ? `${obj.namespace}/${obj.name}` : obj.name;
}

export function objectKey(obj: KubeObject): string {
  return keyOf(obj.metadata);
}

export function parseKey(key: string): ObjectName {
  const slash = key.indexOf("/");
  return slash < 0 ? { name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
