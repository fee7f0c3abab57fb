// What is generated from KubeVirt's spec: the definitions griddesk reaches, a structural schema
// the API server accepts (the integration test installs it), and the staleness check that fails
// when the committed types and the spec disagree.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "@jest/globals";
import { findStale } from "../../../src/api/codegen/files.js";
import { kindSchema } from "../../../src/hypervisors/kubevirt/codegen/crd.js";
import {
  KUBEVIRT_TYPES_PATH,
  readKubevirtSpec,
  renderKubevirtFiles,
  renderKubevirtTypes,
} from "../../../src/hypervisors/kubevirt/codegen/render.js";
import {
  reachable,
  KUBEVIRT_ROOTS,
  type SwaggerDocument,
} from "../../../src/hypervisors/kubevirt/codegen/spec.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const scratch = mkdtempSync(path.join(tmpdir(), "griddesk-kv-codegen-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Every schema keyword anywhere in a schema (not property names), with how often it occurs. */
function keys(value: unknown, out = new Map<string, number>()): Map<string, number> {
  if (Array.isArray(value)) for (const v of value) keys(v, out);
  else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      out.set(k, (out.get(k) ?? 0) + 1);
      if (k === "properties") for (const p of Object.values(v as object)) keys(p, out);
      else keys(v, out);
    }
  return out;
}

describe("KubeVirt code generation", () => {
  it("takes the definitions reachable from VMI and VM, and no cycle", async () => {
    const doc = await readKubevirtSpec(root);
    const names = reachable(doc, KUBEVIRT_ROOTS);
    expect(names).toEqual(
      expect.arrayContaining(["v1.VirtualMachineInstanceSpec", "v1.ContainerDiskSource"]),
    );
    expect(names).not.toContain("v1.ObjectGraphNode"); // the spec's one recursive definition
    expect(names.length).toBeLessThan(Object.keys(doc.definitions).length);
  });

  it("writes a structural schema: no refs, no type lists, no defaults, metadata left to the server", async () => {
    const doc = await readKubevirtSpec(root);
    const schema = kindSchema(doc, "v1.VirtualMachineInstance");
    const found = keys(schema);
    for (const banned of ["$ref", "default", "x-kubernetes-patch-strategy", "x-kubernetes-patch-merge-key"])
      expect(found.get(banned) ?? 0).toBe(0);
    const json = JSON.stringify(schema);
    expect(json).not.toMatch(/"type":\[/);
    expect((schema.properties as Record<string, unknown>).metadata).toEqual({ type: "object" });
    const memory = (schema as any).properties.spec.properties.domain.properties.memory.properties.guest; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(memory).toMatchObject({
      "x-kubernetes-int-or-string": true,
      anyOf: [{ type: "integer" }, { type: "string" }],
    });
  });

  it("finds the committed types stale once the spec changes, and up to date for the spec as it is", async () => {
    const doc = await readKubevirtSpec(root);
    const committed = await renderKubevirtFiles(root);
    const ours = new Set(committed.map((f) => f.path));
    expect((await findStale(root, committed)).filter((s) => ours.has(s.path))).toEqual([]);

    const changed = structuredClone(doc) as SwaggerDocument;
    const cpu = changed.definitions["v1.CPU"] as { properties: Record<string, unknown> };
    cpu.properties.turbo = { type: "boolean", description: "A field KubeVirt does not have." };
    const types = await renderKubevirtTypes(changed);
    expect(types).toContain("turbo?: boolean");
    // The same check `npm run verify-generated` makes, on a copy of the committed file.
    mkdirSync(path.join(scratch, path.dirname(KUBEVIRT_TYPES_PATH)), { recursive: true });
    const committedTypes = committed.find((f) => f.path === KUBEVIRT_TYPES_PATH)?.content as string;
    writeFileSync(path.join(scratch, KUBEVIRT_TYPES_PATH), committedTypes);
    expect(await findStale(scratch, [{ path: KUBEVIRT_TYPES_PATH, content: types }])).toEqual([
      { path: KUBEVIRT_TYPES_PATH, why: "outdated" },
    ]);
    // Two full renders of KubeVirt's types (json-schema-to-typescript and prettier): seconds of
    // CPU each, more than jest's 5 s default on 2 busy cores.
  }, 60_000);
});
