// Names for the TypeScript types generated from shared schema pieces. Kept beside the schemas
// instead of as a `title` inside them, so the CRD text carries no generator detail.
import type { Schema } from "./openapi.js";

export interface TsName {
  name: string;
  /** Doc comment for a scalar alias (e.g. Quantity), whose schema descriptions are per field. */
  doc?: string;
}

const names = new WeakMap<Schema, TsName>();

/** Marks `schema` to become the interface or type alias `name` in types.generated.ts. */
export function tsNamed<T extends Schema>(name: string, schema: T, doc?: string): T {
  names.set(schema, doc === undefined ? { name } : { name, doc });
  return schema;
}

export function tsNameOf(schema: Schema): TsName | undefined {
  return names.get(schema);
}
