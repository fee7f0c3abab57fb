// The subset of apiextensions.k8s.io/v1 JSONSchemaProps that griddesk's schemas use, spelled
// with the wire keys (e.g. "x-kubernetes-validations") so a schema literal is the CRD text.
// `description` is required on every schema so `kubectl explain` never shows a bare field.

/** A CEL rule (`x-kubernetes-validations`); `message` must name the field and what is allowed. */
export interface ValidationRule {
  rule: string;
  message: string;
  /** Where the error points, relative to the schema node carrying the rule (e.g. ".profile"). */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** The only value-validation subschemas we need: the two arms of int-or-string. */
export interface IntOrStringArm {
  type: "integer" | "string";
}

export type SchemaType = "object" | "array" | "string" | "integer" | "number" | "boolean";

export interface Schema {
  description: string;
  type?: SchemaType;
  format?: "date-time" | "int32" | "int64" | "double";
  enum?: readonly string[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  required?: readonly string[];
  properties?: Readonly<Record<string, Schema>>;
  additionalProperties?: Schema;
  items?: Schema;
  anyOf?: readonly IntOrStringArm[];
  "x-kubernetes-int-or-string"?: true;
  "x-kubernetes-preserve-unknown-fields"?: true;
  "x-kubernetes-embedded-resource"?: true;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: readonly string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-validations"?: readonly ValidationRule[];
}

/** A column of `kubectl get`; `jsonPath` is relative to the object. */
export interface PrinterColumn {
  name: string;
  type: "string" | "integer" | "number" | "boolean" | "date";
  jsonPath: string;
  description: string;
  /** 0 = shown by default; 1 = only with `-o wide`. */
  priority?: 0 | 1;
  format?: string;
}

/** Everything the generator needs to write one kind's CRD and TypeScript types. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  scope: "Namespaced" | "Cluster";
  /** The top-level description shown by `kubectl explain <kind>`. */
  description: string;
  spec: Schema;
  status: Schema;
  printerColumns: readonly PrinterColumn[];
  /** Fields usable in `--field-selector` (CRD selectableFields), e.g. ".spec.hostRef". */
  selectableFields?: readonly string[];
}
