// The manifests in examples/ apply cleanly to a real kube-apiserver, and `kubectl get` and
// `kubectl explain` read well with them. Namespaced examples go to a throwaway namespace and
// HostNodes get a per-run suffix, so parallel runs and other tests never collide.
import { afterAll, beforeAll, describe, expect, it, jest } from "@jest/globals";
import { dump, loadAll } from "js-yaml";
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { createTestNamespace, deleteNamespace, eventually, kubectl, mustKubectl } from "./support/cluster.js";

jest.setTimeout(120_000);

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const CRDS = ["hostnodes", "desktoppools", "desktops", "desktopsessions", "desktopprofiles"].map(
  (p) => `crd/${p}.griddesk.io`,
);
const FIELD_MANAGER = "griddesk-examples-test";
const run = randomBytes(3).toString("hex");
let ns = "";

interface Doc {
  kind: string;
  metadata: { name?: string; namespace?: string; labels?: Record<string, string> };
}

async function installCrds(): Promise<void> {
  await mustKubectl([
    "apply",
    "--server-side",
    "--force-conflicts",
    `--field-manager=${FIELD_MANAGER}`,
    "-f",
    `${ROOT}crds/`,
  ]);
  await mustKubectl(["wait", "--for=condition=Established", "--timeout=60s", ...CRDS]);
}

/** The example's objects, moved into this run's namespace and host names. */
async function exampleDocs(file: string): Promise<Doc[]> {
  const docs = loadAll(await readFile(`${ROOT}examples/${file}`, "utf8")) as Doc[];
  return docs
    .filter((d) => d.kind !== "Namespace")
    .map((d) => {
      const copy = structuredClone(d);
      if (copy.kind === "HostNode") {
        copy.metadata.name = `${copy.metadata.name}-${run}`;
        copy.metadata.labels = { ...copy.metadata.labels, "griddesk.io/test-run": run };
      } else {
        copy.metadata.namespace = ns;
      }
      return copy;
    });
}

const asYaml = (docs: Doc[]) => docs.map((d) => dump(d)).join("---\n");

let files: string[] = [];

beforeAll(async () => {
  await installCrds();
  ns = await createTestNamespace("examples");
  files = (await readdir(`${ROOT}examples`)).filter((f) => f.endsWith(".yaml")).sort();
});

afterAll(async () => {
  if (ns) await deleteNamespace(ns);
  await kubectl(["delete", "hostnodes.griddesk.io", "-l", `griddesk.io/test-run=${run}`, "--wait=false"]);
});

describe("examples", () => {
  it("has the files the docs point to", () => {
    expect(files).toEqual(
      expect.arrayContaining([
        "hosts-libvirt.yaml",
        "hosts-simulated.yaml",
        "pool-callcenter.yaml",
        "pool-knowledge.yaml",
        "session.yaml",
      ]),
    );
  });

  it("host files pass a server-side dry run exactly as written", async () => {
    for (const file of files.filter((f) => f.startsWith("hosts-"))) {
      const r = await kubectl([
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        `${ROOT}examples/${file}`,
      ]);
      expect({ file, stderr: r.stderr, code: r.code }).toEqual({ file, stderr: "", code: 0 });
    }
  });

  it("every file but session.yaml applies cleanly with kubectl apply --server-side", async () => {
    for (const file of files.filter((f) => f !== "session.yaml")) {
      const r = await kubectl(
        ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"],
        asYaml(await exampleDocs(file)),
      );
      expect({ file, stderr: r.stderr, code: r.code }).toEqual({ file, stderr: "", code: 0 });
    }
  });

  it("session.yaml creates a session with a generated name (apply cannot: generateName)", async () => {
    const out = await mustKubectl(
      ["create", "-f", "-", "-o", "name"],
      asYaml(await exampleDocs("session.yaml")),
    );
    expect(out.trim()).toMatch(/^desktopsession\.griddesk\.io\/alice-[a-z0-9]{5}$/);
  });

  it("kubectl get griddesk -A lists hosts, pools and the session", async () => {
    const out = await mustKubectl(["get", "griddesk", "-A"]);
    for (const name of [
      `hostnode.griddesk.io/rack3-node07-${run}`,
      `hostnode.griddesk.io/sim-large-${run}`,
      "desktoppool.griddesk.io/callcenter",
      "desktoppool.griddesk.io/knowledge",
      "desktopsession.griddesk.io/alice-",
    ]) {
      expect(out).toContain(name);
    }
    expect(out).toContain(ns);
  });

  it("printer columns and short names tell the story", async () => {
    const pools = await mustKubectl(["get", "dp", "-n", ns]);
    expect(pools).toMatch(/NAME\s+MIN\s+MAX\s+BUFFER\s+AVAILABLE\s+IN-USE\s+TOTAL\s+READY\s+AGE/);
    expect(pools).toMatch(/callcenter\s+0\s+400\s+20\s/);
    const hosts = await mustKubectl(["get", "hn", "-l", `griddesk.io/test-run=${run}`]);
    expect(hosts).toMatch(
      /NAME\s+HYPERVISOR\s+CPU MODEL\s+DESKTOPS\s+SESSIONS\s+CORDONED\s+DRAIN\s+READY\s+AGE/,
    );
    expect(hosts).toMatch(new RegExp(`sim-small-${run}\\s+simulated\\s`));
    expect(hosts).toMatch(new RegExp(`rack3-node08-${run}\\s+libvirt\\s`));
    const sessions = await mustKubectl(["get", "sess", "-n", ns]);
    expect(sessions).toMatch(/NAME\s+USER\s+POOL\s+HOST\s+PHASE\s+AGE/);
    expect(sessions).toMatch(/alice-\w+\s+alice@example\.com\s+callcenter/);
    expect(await mustKubectl(["get", "dt", "-n", ns, "-o", "name"])).toBe("");
  });

  it("sessions can be selected by user and pool (selectable fields)", async () => {
    const byUser = await mustKubectl([
      "get",
      "sess",
      "-n",
      ns,
      "--field-selector",
      "spec.user=alice@example.com",
      "-o",
      "name",
    ]);
    expect(byUser).toMatch(/alice-/);
    const other = await mustKubectl([
      "get",
      "sess",
      "-n",
      ns,
      "--field-selector",
      "spec.poolRef=knowledge",
      "-o",
      "name",
    ]);
    expect(other).toBe("");
  });

  it("kubectl explain desktoppool.spec --recursive shows nested, documented fields", async () => {
    const explain = () =>
      kubectl(["explain", "desktoppool.spec", "--recursive"]).then((r) => r.stdout + r.stderr);
    // kubectl caches the served OpenAPI: a CRD applied a moment ago may not be in it yet.
    const out = await eventually(
      "kubectl explain to know the CRD's newest fields",
      async () => {
        const o = await explain();
        return o.includes("maxProvisioningPerHost") ? o : undefined;
      },
      30_000,
      1000,
    );
    for (const field of [
      "image",
      "sha256",
      "matchExpressions",
      "maxProvisioningPerHost",
      "persistence",
      "maxUnavailableHosts",
    ]) {
      expect(out).toContain(field);
    }
    const doc = await mustKubectl(["explain", "desktoppool.spec.placement"]);
    expect(doc).toContain("How new desktops are spread over the eligible hosts.");
    expect(doc).toContain("BreadthFirst");
  });
});
