// Typed CRUD for one resource (custom or core), with the content type each write needs set
// per call (see rest.ts for why this sits on raw requests rather than CustomObjectsApi).
// Failures are typed: ConflictError (409: stale resourceVersion, or already exists),
// NotFoundError (404), ApiError otherwise.
import { NotFoundError } from "./errors.js";
import {
  collectionPath,
  objectPath,
  type KubeList,
  type KubeObject,
  type ObjectName,
  type ResourceRef,
} from "./resource.js";
import type { RestClient } from "./rest.js";

export const ContentType = {
  Json: "application/json",
  MergePatch: "application/merge-patch+json",
  JsonPatch: "application/json-patch+json",
  Apply: "application/apply-patch+yaml",
} as const;

export interface JsonPatchOp {
  op: "add" | "remove" | "replace" | "move" | "copy" | "test";
  path: string;
  value?: unknown;
  from?: string;
}

export interface PatchOptions {
  /** "status" writes the status subresource. */
  subresource?: "status";
}

export interface ApplyOptions extends PatchOptions {
  /** Take over fields other managers own (what a controller normally wants). Default true. */
  force?: boolean;
}

export interface DeleteOptions {
  propagationPolicy?: "Foreground" | "Background" | "Orphan";
  /** Delete only if the object still has this uid / resourceVersion. */
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
}

export class ObjectClient<T extends KubeObject> {
  private readonly fieldManager: string;
  /** Creates with fieldValidation=Strict (the KubeVirt adapter: every VMI checked by KubeVirt's schema). */
  private readonly strictCreate: boolean;

  constructor(
    private readonly rest: RestClient,
    readonly resource: ResourceRef,
    opts: { fieldManager?: string; strictCreate?: boolean } = {},
  ) {
    this.fieldManager = opts.fieldManager ?? "griddesk";
    this.strictCreate = opts.strictCreate ?? false;
  }

  get(name: ObjectName): Promise<T> {
    return this.rest.request<T>({ method: "GET", path: objectPath(this.resource, name) });
  }

  /** The object, or undefined if it does not exist. */
  async tryGet(name: ObjectName): Promise<T | undefined> {
    try {
      return await this.get(name);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  /** Every matching object (follows continue tokens). */
  async list(opts: ListOptions = {}): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = await this.rest.request<KubeList<T>>({
        method: "GET",
        path: collectionPath(this.resource, opts.namespace),
        query: {
          limit: 500,
          continue: cont,
          labelSelector: opts.labelSelector,
          fieldSelector: opts.fieldSelector,
        },
      });
      items.push(...page.items);
      cont = page.metadata.continue || undefined;
    } while (cont);
    return items;
  }

  create(obj: T): Promise<T> {
    return this.rest.request<T>({
      method: "POST",
      path: collectionPath(this.resource, obj.metadata.namespace),
      // Strict: a field the schema does not know is refused, not silently dropped.
      query: { fieldManager: this.fieldManager, ...(this.strictCreate ? { fieldValidation: "Strict" } : {}) },
      body: obj,
    });
  }

  /** PUT, checked against obj.metadata.resourceVersion (required): a stale copy gets ConflictError. */
  update(obj: T): Promise<T> {
    return this.put(obj);
  }

  /** PUT of the status subresource, with the same resourceVersion check. */
  updateStatus(obj: T): Promise<T> {
    return this.put(obj, "status");
  }

  mergePatch(name: ObjectName, patch: unknown, opts: PatchOptions = {}): Promise<T> {
    return this.patch(name, patch, ContentType.MergePatch, opts.subresource);
  }

  /** A JSON patch; include a `test` op on /metadata/resourceVersion for a checked write. */
  jsonPatch(name: ObjectName, ops: JsonPatchOp[], opts: PatchOptions = {}): Promise<T> {
    return this.patch(name, ops, ContentType.JsonPatch, opts.subresource);
  }

  /** Server-side apply of the fields in `obj` (which needs apiVersion, kind and metadata.name). */
  apply(obj: Partial<T> & KubeObject, opts: ApplyOptions = {}): Promise<T> {
    return this.patch(obj.metadata, obj, ContentType.Apply, opts.subresource, opts.force ?? true);
  }

  /** Resolves false if the object was already gone. */
  async delete(name: ObjectName, opts: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.rest.request({
        method: "DELETE",
        path: objectPath(this.resource, name),
        body: { apiVersion: "v1", kind: "DeleteOptions", ...opts },
      });
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  private put(obj: T, subresource?: string): Promise<T> {
    if (!obj.metadata.resourceVersion) {
      throw new Error(`update of ${obj.metadata.name} without metadata.resourceVersion would not be checked`);
    }
    return this.rest.request<T>({
      method: "PUT",
      path: objectPath(this.resource, obj.metadata, subresource),
      query: { fieldManager: this.fieldManager },
      body: obj,
    });
  }

  private patch(
    name: ObjectName,
    body: unknown,
    contentType: string,
    subresource?: string,
    force?: boolean,
  ): Promise<T> {
    return this.rest.request<T>({
      method: "PATCH",
      path: objectPath(this.resource, name, subresource),
      query: { fieldManager: this.fieldManager, force },
      body,
      contentType,
    });
  }
}
