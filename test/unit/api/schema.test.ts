// Structural sanity of the schemas, checked without an API server: what `kubectl explain` and
// the apiserver's structural-schema rules need, and that every CEL message names its field.
import { describe, expect, it } from "@jest/globals";
import { loadAll } from "js-yaml";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { ConditionVocabulary } from "../../../src/api/conditions.js";
import { kindDefinitions } from "../../../src/api/schema/index.js";
import type { KindDefinition, Schema } from "../../../src/api/schema/openapi.js";

interface Node {
  path: string;
  schema: Schema;
}

function walk(schema: Schema, path: string, out: Node[] = []): Node[] {
  out.push({ path, schema });
  for (const [k, v] of Object.entries(schema.properties ?? {})) walk(v, `${path}.${k}`, out);
  if (schema.items) walk(schema.items, `${path}[]`, out);
  if (schema.additionalProperties) walk(schema.additionalProperties, `${path}{}`, out);
  return out;
}

function nodesOf(def: KindDefinition): Node[] {
  return [...walk(def.spec, "spec"), ...walk(def.status, "status")];
}

const allNodes = kindDefinitions.flatMap((def) => nodesOf(def).map((n) => ({ kind: def.kind, ...n })));

/** Follows a printer-column or selectable-field JSONPath through the schema. */
function resolve(def: KindDefinition, jsonPath: string): Schema | undefined {
  const parts = jsonPath
    .replace(/\[\?\(.*?\)\]/g, "[]")
    .replace(/^\./, "")
    .split(".");
  const top = parts.shift();
  if (top === "metadata") return { description: "metadata", type: "object" };
  let node: Schema | undefined = top === "spec" ? def.spec : top === "status" ? def.status : undefined;
  for (const part of parts) {
    node = part.endsWith("[]") ? node?.properties?.[part.slice(0, -2)]?.items : node?.properties?.[part];
  }
  return node;
}

describe.each(kindDefinitions.map((d) => [d.kind, d] as const))("%s schema", (_kind, def) => {
  const nodes = nodesOf(def);

  it("documents every field", () => {
    const bare = nodes.filter((n) => n.schema.description.trim().length < 10).map((n) => n.path);
    expect(bare).toEqual([]);
  });

  it("gives every field a type, or marks it int-or-string with exactly the two standard arms", () => {
    for (const { path, schema } of nodes) {
      if (schema["x-kubernetes-int-or-string"]) {
        expect({ path, type: schema.type, anyOf: schema.anyOf }).toEqual({
          path,
          type: undefined,
          anyOf: [{ type: "integer" }, { type: "string" }],
        });
      } else {
        expect({ path, hasType: schema.type !== undefined }).toEqual({ path, hasType: true });
      }
    }
  });

  it("lists only required fields that exist", () => {
    for (const { path, schema } of nodes) {
      for (const r of schema.required ?? [])
        expect(`${path}.${r}`).toBe(`${path}.${schema.properties?.[r] ? r : "?"}`);
    }
  });

  it("keys map-lists by required fields and bounds every list", () => {
    for (const { path, schema } of nodes.filter((n) => n.schema.type === "array")) {
      expect({ path, maxItems: typeof schema.maxItems }).toEqual({ path, maxItems: "number" });
      for (const key of schema["x-kubernetes-list-map-keys"] ?? [])
        expect(schema.items?.required).toContain(key);
    }
  });

  it("has defaults that satisfy their own field's enum and bounds", () => {
    for (const { path, schema } of nodes.filter((n) => n.schema.default !== undefined)) {
      const d = schema.default;
      if (schema.enum) expect({ path, ok: schema.enum.includes(d as string) }).toEqual({ path, ok: true });
      if (typeof d === "number") {
        expect(d).toBeGreaterThanOrEqual(schema.minimum ?? -Infinity);
        expect(d).toBeLessThanOrEqual(schema.maximum ?? Infinity);
      }
      if (schema.type === "object") expect(d).toEqual({});
      if (schema.pattern && typeof d === "string") expect(d).toMatch(new RegExp(schema.pattern));
    }
  });

  it("writes CEL messages that name a field path, and points fieldPath at a real property", () => {
    for (const { path, schema } of nodes) {
      for (const rule of schema["x-kubernetes-validations"] ?? []) {
        expect(rule.message).toMatch(/^(spec|status)\.[A-Za-z0-9.]+ /);
        if (rule.fieldPath) {
          const prop = rule.fieldPath.replace(/^\./, "");
          expect(`${path}.${prop}`).toBe(`${path}.${schema.properties?.[prop] ? prop : "?"}`);
        }
      }
    }
  });

  it("has printer columns and selectable fields that resolve to schema fields", () => {
    for (const c of def.printerColumns)
      expect({ column: c.name, found: !!resolve(def, c.jsonPath) }).toEqual({ column: c.name, found: true });
    for (const f of def.selectableFields ?? []) {
      expect({ field: f, type: resolve(def, f)?.type }).toEqual({ field: f, type: "string" });
    }
  });
});

describe("names", () => {
  // Short names of built-in resources: kubectl resolves these to the built-in, never to a CRD.
  const builtIn = [
    "cm",
    "cj",
    "crd",
    "cs",
    "csr",
    "deploy",
    "ds",
    "ep",
    "ev",
    "hpa",
    "ing",
    "limits",
    "netpol",
  ];
  builtIn.push("no", "ns", "pc", "pdb", "po", "pv", "pvc", "quota", "rc", "rs", "sa", "sc", "sts", "svc");
  it("uses unique short names that no built-in resource already takes", () => {
    const shortNames = kindDefinitions.flatMap((d) => d.shortNames);
    expect(new Set(shortNames).size).toBe(shortNames.length);
    expect(shortNames.filter((n) => builtIn.includes(n))).toEqual([]);
  });
});

describe("patterns", () => {
  const byPath = (kind: string, path: string) =>
    allNodes.find((n) => n.kind === kind && n.path === path)?.schema;
  const cases: { kind: string; path: string; good: string[]; bad: string[] }[] = [
    {
      kind: "DesktopPool",
      path: "spec.session.idleTimeout",
      good: ["30m", "2h", "1h30m", "45s", "1.5h", "500ms"],
      bad: ["30", "30 minutes", "1d", "-5m", ""],
    },
    {
      kind: "DesktopPool",
      path: "spec.resources.memory",
      good: ["4Gi", "500m", "2", "1.5T", "1e3"],
      bad: ["4GB", "-1Gi", "four", ""],
    },
    {
      kind: "DesktopPool",
      path: "spec.image.sha256",
      good: ["a".repeat(64), "0123456789abcdef".repeat(4)],
      bad: ["A".repeat(64), "a".repeat(63), "g".repeat(64)],
    },
    {
      kind: "DesktopPool",
      path: "spec.image.source",
      good: ["file:///srv/x.qcow2", "/srv/x.qcow2", "https://h/x.qcow2", "http://h:8080/x"],
      bad: ["srv/x.qcow2", "ftp://h/x", "file://relative", "/with space"],
    },
    {
      kind: "DesktopPool",
      path: "spec.profile.store.path",
      good: ["/profiles", "/", "/srv/p-1/x.y"],
      bad: ["profiles", "/with space", "sftp://fs/p", "smb://fs/profiles"],
    },
  ];
  it.each(cases)("$kind $path", ({ kind, path, good, bad }) => {
    const re = new RegExp(byPath(kind, path)?.pattern ?? "(?!)");
    for (const g of good) expect({ g, ok: re.test(g) }).toEqual({ g, ok: true });
    for (const b of bad) expect({ b, ok: re.test(b) }).toEqual({ b, ok: false });
  });
});

describe("condition vocabulary", () => {
  const reasonPattern = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
  it.each(Object.entries(ConditionVocabulary))(
    "%s uses CamelCase constants whose value is their name",
    (_k, v) => {
      expect(v.types).toHaveProperty("Ready", "Ready");
      for (const [key, value] of [...Object.entries(v.types), ...Object.entries(v.reasons)]) {
        expect(value).toBe(key);
        expect(value).toMatch(/^[A-Z][A-Za-z0-9]*$/);
        expect(value).toMatch(reasonPattern);
      }
    },
  );
});

describe("examples", () => {
  const dir = fileURLToPath(new URL("../../../examples/", import.meta.url));

  /** Paths in `value` that the schema does not declare (the apiserver would refuse or prune them). */
  function unknownFields(schema: Schema, value: unknown, path: string): string[] {
    if (Array.isArray(value))
      return value.flatMap((v, i) => (schema.items ? unknownFields(schema.items, v, `${path}[${i}]`) : []));
    if (value === null || typeof value !== "object" || schema["x-kubernetes-int-or-string"]) return [];
    return Object.entries(value).flatMap(([k, v]) => {
      const sub = schema.properties?.[k] ?? schema.additionalProperties;
      return sub ? unknownFields(sub, v, `${path}.${k}`) : [`${path}.${k}`];
    });
  }

  it("use only fields the schemas declare, and cover every kind but Desktop", async () => {
    const kinds = new Set<string>();
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(".yaml"))) {
      const docs = loadAll(await readFile(`${dir}${file}`, "utf8")) as { kind: string; spec?: unknown }[];
      for (const doc of docs.filter((d) => d.kind !== "Namespace")) {
        const def = kindDefinitions.find((d) => d.kind === doc.kind);
        expect({ file, kind: doc.kind, known: !!def }).toEqual({ file, kind: doc.kind, known: true });
        kinds.add(doc.kind);
        expect({ file, unknown: unknownFields(def!.spec, doc.spec, "spec") }).toEqual({ file, unknown: [] });
      }
    }
    expect([...kinds].sort()).toEqual(["DesktopPool", "DesktopSession", "HostNode"]);
  });
});
