import { describe, expect, it } from "@jest/globals";
import { load } from "js-yaml";
import { mkdtemp, readFile, rm, unlink, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { findStale, writeGenerated } from "../../../src/api/codegen/files.js";
import { renderGeneratedFiles, TYPES_PATH } from "../../../src/api/codegen/render.js";
import { indent } from "../../../src/api/codegen/typescript.js";
import { kindDefinitions } from "../../../src/api/schema/index.js";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "griddesk-gen-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("renderGeneratedFiles", () => {
  it("is deterministic: two renders are byte-identical", async () => {
    const a = await renderGeneratedFiles(kindDefinitions);
    const b = await renderGeneratedFiles(kindDefinitions);
    expect(b).toEqual(a);
  });

  it("writes one CRD per kind into crds/ and identical copies into the Helm chart", async () => {
    const files = await renderGeneratedFiles(kindDefinitions);
    const paths = files.map((f) => f.path);
    for (const plural of ["hostnodes", "desktoppools", "desktops", "desktopsessions", "desktopprofiles"]) {
      const main = files.find((f) => f.path === `crds/${plural}.griddesk.io.yaml`);
      const helm = files.find((f) => f.path === `helm/griddesk/files/crds/${plural}.griddesk.io.yaml`);
      expect(main).toBeDefined();
      expect(helm?.content).toBe(main?.content);
    }
    expect(paths).toContain(TYPES_PATH);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it("renders CRDs that parse back to apiextensions.k8s.io/v1 with the griddesk category", async () => {
    const files = await renderGeneratedFiles(kindDefinitions);
    for (const f of files.filter((x) => x.path.startsWith("crds/"))) {
      const crd = load(f.content) as {
        apiVersion: string;
        kind: string;
        metadata: { name: string };
        spec: {
          group: string;
          names: { categories: string[]; plural: string };
          versions: { name: string }[];
        };
      };
      expect(crd.apiVersion).toBe("apiextensions.k8s.io/v1");
      expect(crd.kind).toBe("CustomResourceDefinition");
      expect(crd.metadata.name).toBe(`${crd.spec.names.plural}.griddesk.io`);
      expect(crd.spec.group).toBe("griddesk.io");
      expect(crd.spec.names.categories).toEqual(["griddesk"]);
      expect(crd.spec.versions.map((v) => v.name)).toEqual(["v1alpha1"]);
      expect(f.content).not.toMatch(/[&*]ref_\d+/); // no YAML anchors for shared schema pieces
    }
  });

  it("declares every kind, its spec, status and list in the types", async () => {
    const types =
      (await renderGeneratedFiles(kindDefinitions)).find((f) => f.path === TYPES_PATH)?.content ?? "";
    for (const kind of ["HostNode", "DesktopPool", "Desktop", "DesktopSession"]) {
      for (const suffix of ["", "Spec", "Status", "List"]) {
        expect(types).toContain(`export interface ${kind}${suffix} {`);
      }
    }
    expect(types).toContain("export type Quantity = number | string;");
    expect(types.match(/export interface Condition \{/g)).toHaveLength(1); // shared pieces declared once
  });
});

describe("indent", () => {
  it("indents by brace depth and separates top-level declarations", () => {
    const flat = [
      "/**",
      " * doc",
      " */",
      "export interface A {",
      "b?: {",
      "c: string",
      "}",
      "}",
      "export type X = 1",
    ];
    expect(indent(flat.join("\n"))).toBe(
      [
        "/**",
        " * doc",
        " */",
        "export interface A {",
        "  b?: {",
        "    c: string",
        "  }",
        "}",
        "",
        "export type X = 1",
      ].join("\n"),
    );
  });
});

describe("findStale and writeGenerated", () => {
  it("finds nothing stale right after writing, then names each kind of staleness", async () => {
    await withTempDir(async (dir) => {
      const files = await renderGeneratedFiles(kindDefinitions);
      expect((await findStale(dir, files)).length).toBe(files.length); // all missing at first
      await writeGenerated(dir, files);
      expect(await findStale(dir, files)).toEqual([]);

      await writeFile(join(dir, "crds/desktops.griddesk.io.yaml"), "# edited by hand\n");
      await unlink(join(dir, TYPES_PATH));
      await mkdir(join(dir, "helm/griddesk/files/crds"), { recursive: true });
      await writeFile(join(dir, "helm/griddesk/files/crds/old.griddesk.io.yaml"), "kind: Old\n");
      await writeFile(join(dir, "crds/README.txt"), "not a CRD\n");

      expect(await findStale(dir, files)).toEqual([
        { path: "crds/desktops.griddesk.io.yaml", why: "outdated" },
        { path: TYPES_PATH, why: "missing" },
        { path: "helm/griddesk/files/crds/old.griddesk.io.yaml", why: "unexpected" },
      ]);

      const changed = await writeGenerated(dir, files);
      expect(changed).toHaveLength(3);
      expect(await findStale(dir, files)).toEqual([]);
      expect(await readFile(join(dir, "crds/README.txt"), "utf8")).toBe("not a CRD\n");
    });
  });

  it("reports the repository's committed generated files as current (npm run generate was run)", async () => {
    const files = await renderGeneratedFiles(kindDefinitions);
    expect(await findStale(repoRoot, files)).toEqual([]);
  });
});
