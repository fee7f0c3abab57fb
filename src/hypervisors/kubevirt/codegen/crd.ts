// KubeVirt's VirtualMachineInstance and VirtualMachine CRDs, generated from KubeVirt's own spec
// for the test cluster (virt-operator, which makes them in a real cluster, cannot run there), so
// every VMI the adapter writes is checked against KubeVirt's schema by a real API server.
// Names, scope, short names, printer columns and subresources are those virt-operator v1.9.0
// installs (pkg/virt-operator/resource/generate/components/crds.go). The schema is the spec's
// definitions inlined into one structural schema, with what the API server refuses in a CRD
// rewritten: a `type` list (IntOrString, Quantity, nullable strings), `default`s (many are `{}`
// on objects with required fields), patch-strategy extensions, and a full ObjectMeta under
// `metadata`. Pure.
import { refName, type SwaggerDocument, type SwaggerSchema } from "./spec.js";

export type CrdSchema = Record<string, unknown>;

const DROPPED = new Set(["default", "x-kubernetes-patch-merge-key", "x-kubernetes-patch-strategy"]);

/** One node of the spec as a structural-schema node, with its refs inlined. */
export function structural(
  doc: SwaggerDocument,
  schema: SwaggerSchema,
  trail: readonly string[] = [],
): CrdSchema {
  if (schema.$ref !== undefined) {
    const name = refName(schema.$ref);
    if (trail.includes(name)) throw new Error(`recursive reference: ${[...trail, name].join(" -> ")}`);
    const target = doc.definitions[name];
    if (target === undefined) throw new Error(`the spec has no definition ${name}`);
    const inlined = structural(doc, target, [...trail, name]);
    // The referring property's own description is more specific than the type's.
    return schema.description !== undefined ? { ...inlined, description: schema.description } : inlined;
  }
  const out: CrdSchema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (DROPPED.has(key)) continue;
    if (key === "type" && Array.isArray(value)) Object.assign(out, typeList(value));
    else if (key === "properties")
      out.properties = Object.fromEntries(
        Object.entries(value as Record<string, SwaggerSchema>).map(([k, v]) => [
          k,
          structural(doc, v, trail),
        ]),
      );
    else if (key === "items") out.items = structural(doc, value as SwaggerSchema, trail);
    else if (key === "additionalProperties" && typeof value === "object")
      out.additionalProperties = structural(doc, value as SwaggerSchema, trail);
    else out[key] = value;
  }
  return out;
}

/** `type: [...]` is not allowed in a CRD: int-or-string, or a nullable single type. */
function typeList(types: readonly string[]): CrdSchema {
  const kinds = types.filter((t) => t !== "null");
  if (kinds.length === 1) return { type: kinds[0], ...(types.includes("null") ? { nullable: true } : {}) };
  if (kinds.includes("string") && (kinds.includes("integer") || kinds.includes("number")))
    return { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] };
  throw new Error(`cannot express type [${types.join(", ")}] in a structural schema`);
}

/** The top-level schema of a kind: its definition, with `metadata` left to the API server. */
export function kindSchema(doc: SwaggerDocument, definition: string): CrdSchema {
  const schema = structural(doc, { $ref: `#/definitions/${definition}` });
  const properties = { ...(schema.properties as Record<string, CrdSchema>), metadata: { type: "object" } };
  return { ...schema, properties };
}

interface KindInfo {
  readonly definition: string;
  readonly kind: string;
  readonly plural: string;
  readonly singular: string;
  readonly shortNames: readonly string[];
  readonly statusSubresource: boolean;
  readonly columns: readonly { name: string; type: string; jsonPath: string }[];
}

const age = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };
const ready = { name: "Ready", type: "string", jsonPath: ".status.conditions[?(@.type=='Ready')].status" };

export const KUBEVIRT_KINDS: readonly KindInfo[] = [
  {
    definition: "v1.VirtualMachineInstance",
    kind: "VirtualMachineInstance",
    plural: "virtualmachineinstances",
    singular: "virtualmachineinstance",
    shortNames: ["vmi", "vmis"],
    statusSubresource: false, // a VMI's status is written with the object
    columns: [
      age,
      { name: "Phase", type: "string", jsonPath: ".status.phase" },
      { name: "IP", type: "string", jsonPath: ".status.interfaces[0].ipAddress" },
      { name: "NodeName", type: "string", jsonPath: ".status.nodeName" },
      ready,
    ],
  },
  {
    definition: "v1.VirtualMachine",
    kind: "VirtualMachine",
    plural: "virtualmachines",
    singular: "virtualmachine",
    shortNames: ["vm", "vms"],
    statusSubresource: true,
    columns: [age, { name: "Status", type: "string", jsonPath: ".status.printableStatus" }, ready],
  },
];

export const KUBEVIRT_GROUP = "kubevirt.io";

/** The CRD of one kind: served as v1 (stored) and v1alpha3, as virt-operator does. */
export function kubevirtCrd(doc: SwaggerDocument, info: KindInfo): CrdSchema {
  const schema = { openAPIV3Schema: kindSchema(doc, info.definition) };
  const version = (name: string, storage: boolean): CrdSchema => ({
    name,
    served: true,
    storage,
    schema,
    additionalPrinterColumns: info.columns,
    ...(info.statusSubresource ? { subresources: { status: {} } } : {}),
  });
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: `${info.plural}.${KUBEVIRT_GROUP}`,
      labels: { "griddesk.io/generated-from": "kubevirt-v1.9.0" },
    },
    spec: {
      group: KUBEVIRT_GROUP,
      scope: "Namespaced",
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.singular,
        shortNames: info.shortNames,
        categories: ["all"],
      },
      versions: [version("v1", true), version("v1alpha3", false)],
    },
  };
}
