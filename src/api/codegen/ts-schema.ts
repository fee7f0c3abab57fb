// Turns a CRD schema into the JSON Schema json-schema-to-typescript reads: named object pieces
// get a `title` (one interface each), named scalars become type aliases, int-or-string becomes
// `number | string`, and defaults are noted in the doc comment. CEL rules do not reach types.
import type { JSONSchema } from "json-schema-to-typescript";
import type { Schema } from "../schema/openapi.js";
import { tsNameOf } from "../schema/ts-names.js";

export interface TypeAlias {
  name: string;
  doc: string;
  type: string;
}

function scalarType(s: Schema): string {
  if (s["x-kubernetes-int-or-string"]) return "number | string";
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (s.type === "integer" || s.type === "number") return "number";
  if (s.type === "string" || s.type === "boolean") return s.type;
  throw new Error(`cannot alias a schema of type ${String(s.type)}`);
}

function docOf(s: Schema): string {
  return s.default === undefined
    ? s.description
    : `${s.description}\n\n@default ${JSON.stringify(s.default)}`;
}

/** Compares two converted schemas as TypeScript sees them: descriptions do not matter. */
function sameShape(a: JSONSchema, b: JSONSchema): boolean {
  const strip = (k: string, v: unknown) => (k === "description" ? undefined : v);
  return JSON.stringify(a, strip) === JSON.stringify(b, strip);
}

export class TsSchemaConverter {
  private readonly objects = new Map<string, JSONSchema>();
  private readonly aliases = new Map<string, TypeAlias>();

  typeAliases(): TypeAlias[] {
    return [...this.aliases.values()];
  }

  convert(s: Schema): JSONSchema {
    const named = tsNameOf(s);
    const isObject = s.type === "object" || s.type === "array";
    if (named && !isObject) return this.alias(named.name, named.doc ?? s.description, s);
    const out = this.structure(s);
    if (!named) return out;
    const seen = this.objects.get(named.name);
    if (seen) {
      if (!sameShape(seen, { ...out, title: named.name })) {
        throw new Error(`two different schemas are both named ${named.name}`);
      }
      return seen;
    }
    const titled = { ...out, title: named.name };
    this.objects.set(named.name, titled);
    return titled;
  }

  private alias(name: string, doc: string, s: Schema): JSONSchema {
    const type = scalarType(s);
    const seen = this.aliases.get(name);
    if (seen && seen.type !== type) throw new Error(`type alias ${name} is both ${seen.type} and ${type}`);
    if (!seen) this.aliases.set(name, { name, doc, type });
    return { description: docOf(s), tsType: name };
  }

  private structure(s: Schema): JSONSchema {
    const description = docOf(s);
    if (s["x-kubernetes-int-or-string"]) return { description, tsType: "number | string" };
    if (s.type === "array") {
      if (!s.items) throw new Error(`array without items: ${s.description}`);
      return { description, type: "array", items: this.convert(s.items) };
    }
    if (s.type === "object") {
      const out: JSONSchema = { description, type: "object" };
      if (s.properties) {
        out.properties = Object.fromEntries(
          Object.entries(s.properties).map(([k, v]) => [k, this.convert(v)]),
        );
      }
      if (s.required?.length) out.required = [...s.required];
      out.additionalProperties = s.additionalProperties ? this.convert(s.additionalProperties) : false;
      return out;
    }
    return { description, tsType: scalarType(s) };
  }
}
