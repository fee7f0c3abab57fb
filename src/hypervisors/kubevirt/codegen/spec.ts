// KubeVirt's own API description (third_party/kubevirt/swagger-v1.9.0.json, Swagger 2.0) cut
// down to what griddesk uses: the definitions reachable from VirtualMachineInstance and
// VirtualMachine (and their lists). Both generated artefacts start here, so the TypeScript types
// and the CRD schemas the test cluster installs can never describe different APIs. Pure.

export type SwaggerSchema = {
  $ref?: string;
  type?: string | string[];
  items?: SwaggerSchema;
  properties?: Record<string, SwaggerSchema>;
  additionalProperties?: SwaggerSchema | boolean;
  allOf?: SwaggerSchema[];
  required?: string[];
  description?: string;
  format?: string;
  default?: unknown;
  enum?: unknown[];
  [key: string]: unknown;
};

export interface SwaggerDocument {
  swagger: string;
  info: Record<string, unknown>;
  paths?: Record<string, unknown>;
  definitions: Record<string, SwaggerSchema>;
  [key: string]: unknown;
}

/** Where the spec lives in the repository, and what it is. */
export const KUBEVIRT_SPEC_PATH = "third_party/kubevirt/swagger-v1.9.0.json";
export const KUBEVIRT_VERSION = "v1.9.0";

/** The kinds griddesk writes or reads, by definition name. */
export const KUBEVIRT_ROOTS = [
  "v1.VirtualMachineInstance",
  "v1.VirtualMachineInstanceList",
  "v1.VirtualMachine",
  "v1.VirtualMachineList",
] as const;

const REF_PREFIX = "#/definitions/";

export function refName(ref: string): string {
  if (!ref.startsWith(REF_PREFIX)) throw new Error(`unsupported $ref ${ref}`);
  return ref.slice(REF_PREFIX.length);
}

function refsIn(schema: unknown, out: Set<string>): void {
  if (Array.isArray(schema)) for (const s of schema) refsIn(s, out);
  else if (schema !== null && typeof schema === "object")
    for (const [key, value] of Object.entries(schema)) {
      if (key === "$ref" && typeof value === "string") out.add(refName(value));
      else refsIn(value, out);
    }
}

/** The definitions reachable from `roots`, in a stable (sorted) order. */
export function reachable(doc: SwaggerDocument, roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const name = todo.pop() as string;
    if (seen.has(name)) continue;
    const def = doc.definitions[name];
    if (def === undefined) throw new Error(`the spec has no definition ${name}`);
    seen.add(name);
    const refs = new Set<string>();
    refsIn(def, refs);
    todo.push(...refs);
  }
  return [...seen].sort();
}

/** The document with only the definitions griddesk uses, and no paths. */
export function pruned(doc: SwaggerDocument, roots: readonly string[] = KUBEVIRT_ROOTS): SwaggerDocument {
  const names = reachable(doc, roots);
  return {
    swagger: doc.swagger,
    info: doc.info,
    paths: {},
    definitions: Object.fromEntries(names.map((n) => [n, doc.definitions[n] as SwaggerSchema])),
  };
}
