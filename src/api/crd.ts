// Builds the apiextensions.k8s.io/v1 CustomResourceDefinition of a kind from its definition.
// The result is plain JSON in wire format, with keys in a fixed order so the YAML is stable.
import { CATEGORY, GROUP, VERSION } from "./constants.js";
import type { KindDefinition, PrinterColumn } from "./schema/openapi.js";

export type CustomResourceDefinition = {
  apiVersion: "apiextensions.k8s.io/v1";
  kind: "CustomResourceDefinition";
  metadata: { name: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
};

export function crdName(def: KindDefinition): string {
  return `${def.plural}.${GROUP}`;
}

function printerColumn(c: PrinterColumn): Record<string, unknown> {
  return {
    name: c.name,
    type: c.type,
    ...(c.format !== undefined ? { format: c.format } : {}),
    ...(c.priority !== undefined ? { priority: c.priority } : {}),
    jsonPath: c.jsonPath,
    description: c.description,
  };
}

function openAPIV3Schema(def: KindDefinition): Record<string, unknown> {
  return {
    description: def.description,
    type: "object",
    required: ["spec"],
    properties: {
      apiVersion: {
        description: "The versioned schema of this representation of an object: griddesk.io/v1alpha1.",
        type: "string",
      },
      kind: { description: `The REST resource this object represents: ${def.kind}.`, type: "string" },
      metadata: { type: "object" },
      spec: def.spec,
      status: def.status,
    },
  };
}

export function buildCrd(def: KindDefinition): CustomResourceDefinition {
  const version: Record<string, unknown> = {
    name: VERSION,
    served: true,
    storage: true,
    schema: { openAPIV3Schema: openAPIV3Schema(def) },
    subresources: { status: {} },
    additionalPrinterColumns: def.printerColumns.map(printerColumn),
  };
  if (def.selectableFields?.length) {
    version.selectableFields = def.selectableFields.map((jsonPath) => ({ jsonPath }));
  }
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: crdName(def),
      labels: { "app.kubernetes.io/name": "griddesk", "app.kubernetes.io/part-of": "griddesk" },
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [CATEGORY],
      },
      scope: def.scope,
      versions: [version],
    },
  };
}
