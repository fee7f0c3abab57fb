// The Helm chart (helm/griddesk) against the real API server: lint (strict, schema rejects
// unknown keys), render, server-side dry-run of everything it renders, RBAC without wildcards,
// the controller admitted by the API server's own `restricted` Pod Security enforcement, and the
// crds.install / crds.keep switches.
import { afterAll, beforeAll, describe, expect, jest, test } from "@jest/globals";
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { dump, load, loadAll } from "js-yaml";
import { createTestNamespace, deleteNamespace, kubectl, mustKubectl } from "./support/cluster.js";

// The first run builds helm from its Go module (minutes on 2 cores); later runs find it cached.
jest.setTimeout(15 * 60 * 1000);

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const chartDir = path.join(repoRoot, "helm", "griddesk");
const crdDir = path.join(chartDir, "files", "crds");
const RELEASE = "griddesk";
const KEEP = "helm.sh/resource-policy";
const FIELD_MANAGER = "griddesk-helm-test";

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}
interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}
interface PodTemplate {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
  spec: Record<string, unknown> & {
    serviceAccountName?: string;
    securityContext?: Record<string, unknown>;
    containers: Array<Record<string, unknown> & { name: string; args?: string[]; command?: string[] }>;
  };
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], timeoutMs = 120_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: repoRoot, env: process.env, maxBuffer: 64 * 1024 * 1024, timeout: timeoutMs },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

let helmBin = "";

/** GRIDDESK_HELM (set by `make test`) or the binary hack/build-helm.sh builds or finds. */
async function locateHelm(): Promise<string> {
  const fromEnv = process.env.GRIDDESK_HELM;
  if (fromEnv) return fromEnv;
  const r = await run("bash", [path.join(repoRoot, "hack", "build-helm.sh")], 15 * 60 * 1000);
  if (r.code !== 0) throw new Error(`hack/build-helm.sh failed (${r.code}): ${r.stderr}`);
  const bin = r.stdout.trim().split("\n").pop() ?? "";
  if (!bin) throw new Error(`hack/build-helm.sh printed no path; stderr: ${r.stderr}`);
  return bin;
}

function helm(args: string[]): Promise<RunResult> {
  return run(helmBin, args);
}

async function renderText(namespace: string, sets: string[] = []): Promise<string> {
  const args = ["template", RELEASE, chartDir, "--namespace", namespace];
  for (const s of sets) args.push("--set", s);
  const r = await helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function render(namespace: string, sets: string[] = []): Promise<Manifest[]> {
  const docs = loadAll(await renderText(namespace, sets)) as Array<Manifest | null>;
  return docs.filter((d): d is Manifest => d != null);
}

function ofKind(docs: Manifest[], kind: string): Manifest[] {
  return docs.filter((d) => d.kind === kind);
}

function one(docs: Manifest[], kind: string, component: string): Manifest {
  const found = docs.filter(
    (d) => d.kind === kind && d.metadata.labels?.["app.kubernetes.io/component"] === component,
  );
  expect(found).toHaveLength(1);
  return found[0] as Manifest;
}

function podTemplate(workload: Manifest): PodTemplate {
  return (workload.spec as { template: PodTemplate }).template;
}

/** A bare Pod made from a workload's pod template: Pod Security admission checks Pods only. */
function podFrom(workload: Manifest, namespace: string): Manifest {
  const t = podTemplate(workload);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `${workload.metadata.name}-pss-check`, namespace, labels: t.metadata?.labels ?? {} },
    spec: t.spec,
  };
}

function toStream(docs: Manifest[]): string {
  return docs.map((d) => dump(d, { noRefs: true })).join("---\n");
}

function crdFiles(): Map<string, Manifest> {
  const byName = new Map<string, Manifest>();
  for (const f of readdirSync(crdDir)
    .filter((n) => n.endsWith(".yaml"))
    .sort()) {
    const crd = load(readFileSync(path.join(crdDir, f), "utf8")) as Manifest;
    byName.set(crd.metadata.name, crd);
  }
  return byName;
}

const namespaces: string[] = [];
let privilegedNs = "";
let restrictedNs = "";

beforeAll(async () => {
  helmBin = await locateHelm();

  const crds = [...crdFiles().keys()];
  expect(crds.length).toBeGreaterThan(0);
  // The CRDs for real (shared with other suites; never deleted here): the API server must accept
  // them, and the dry-run below then checks the chart's copies as an upgrade over them.
  await mustKubectl([
    "apply",
    "--server-side",
    "--force-conflicts",
    `--field-manager=${FIELD_MANAGER}`,
    "-f",
    crdDir,
  ]);
  await mustKubectl(["wait", "--for=condition=Established", "--timeout=60s", ...crds.map((n) => `crd/${n}`)]);

  privilegedNs = await createTestNamespace("helm");
  restrictedNs = await createTestNamespace("helm-restricted");
  namespaces.push(privilegedNs, restrictedNs);
  await mustKubectl(["label", "namespace", privilegedNs, "pod-security.kubernetes.io/enforce=privileged"]);
  await mustKubectl([
    "label",
    "namespace",
    restrictedNs,
    "pod-security.kubernetes.io/enforce=restricted",
    "pod-security.kubernetes.io/enforce-version=latest",
  ]);
});

afterAll(async () => {
  await Promise.all(namespaces.map((ns) => deleteNamespace(ns)));
});

describe("helm lint", () => {
  test("passes --strict with the default values and with the agent enabled", async () => {
    const plain = await helm(["lint", "--strict", chartDir]);
    expect({ code: plain.code, out: plain.stdout + plain.stderr }).toMatchObject({ code: 0 });
    expect(plain.stdout).toContain("0 chart(s) failed");
    const agent = await helm(["lint", "--strict", chartDir, "--set", "agent.enabled=true"]);
    expect({ code: agent.code, out: agent.stdout + agent.stderr }).toMatchObject({ code: 0 });
    const broker = await helm([
      ...["lint", "--strict", chartDir, "--set", "broker.enabled=true", "--set", "broker.tls.secretName=t"],
      ...["--set", "broker.staticUsers.secretName=lab-users"],
    ]);
    expect({ code: broker.code, out: broker.stdout + broker.stderr }).toMatchObject({ code: 0 });
  });

  test("refuses a broker without a TLS Secret, or that nobody could sign in to, naming the values", async () => {
    const r = await helm(["template", "r", chartDir, "--set", "broker.enabled=true"]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/broker\.tls\.secretName: name a kubernetes\.io\/tls Secret/);
    const tls = ["--set", "broker.enabled=true", "--set", "broker.tls.secretName=t"];
    const nobody = await helm(["template", "r", chartDir, ...tls]);
    expect(nobody.stderr).toMatch(
      /nobody could sign in; set broker\.oidc\.issuer, or broker\.staticUsers\.secretName/,
    );
    const half = await helm([
      "template",
      "r",
      chartDir,
      ...tls,
      "--set",
      "broker.oidc.issuer=https://idp.example.com",
    ]);
    expect(half.stderr).toMatch(/broker\.oidc\.issuer needs broker\.oidc\.clientSecretName/);
  });

  test("fails on an unknown value key and names it, at the top level and nested", async () => {
    const top = await helm(["lint", chartDir, "--set", "bogus=1"]);
    expect(top.code).not.toBe(0);
    expect(top.stdout + top.stderr).toMatch(/additional properties 'bogus' not allowed/);

    const nested = await helm(["lint", chartDir, "--set", "agent.replicas=3"]);
    expect(nested.code).not.toBe(0);
    expect(nested.stdout + nested.stderr).toMatch(
      /at '\/agent': additional properties 'replicas' not allowed/,
    );

    // Wrong types and values outside an enum are refused too.
    const typed = await helm([
      ...["lint", chartDir, "--set", "replicas=two", "--set", "logLevel=verbose"],
      ...["--set", "agent.domainType=xen"],
    ]);
    expect(typed.code).not.toBe(0);
    expect(typed.stdout + typed.stderr).toMatch(/\/replicas/);
    expect(typed.stdout + typed.stderr).toMatch(/\/logLevel/);
    expect(typed.stdout + typed.stderr).toMatch(/\/agent\/domainType/);
  });
});

describe("helm template", () => {
  test.each([
    ["default values", [] as string[]],
    ["the agent enabled", ["agent.enabled=true"]],
  ])("renders and passes a server-side dry-run with %s", async (_what, sets) => {
    const text = await renderText(privilegedNs, sets);
    const docs = loadAll(text) as Array<Manifest | null>;
    expect(docs.filter((d) => d != null).length).toBeGreaterThan(0);
    const r = await kubectl(
      ["apply", "--dry-run=server", "--server-side", `--field-manager=${FIELD_MANAGER}-render`, "-f", "-"],
      text,
    );
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    for (const d of docs) {
      if (d == null) continue;
      expect(r.stdout).toContain(`${d.metadata.name} serverside-applied (server dry run)`);
    }
  });

  test("renders the controller as asked: replicas, command, probes, ports, image", async () => {
    const docs = await render(privilegedNs);
    const deploy = one(docs, "Deployment", "controller");
    expect(deploy.metadata.namespace).toBe(privilegedNs);
    expect((deploy.spec as { replicas: number }).replicas).toBe(2);
    const c = podTemplate(deploy).spec.containers[0] as Record<string, unknown> & { args: string[] };
    expect(c.image).toBe("ghcr.io/griddesk/griddesk:0.1.0");
    expect([...(c.command as string[]), ...c.args]).toEqual(
      expect.arrayContaining([
        "griddesk",
        "controller",
        "--metrics-bind-address=:8080",
        "--health-probe-bind-address=:8081",
        "--leader-elect",
      ]),
    );
    expect(c.livenessProbe).toMatchObject({ httpGet: { path: "/healthz", port: "health" } });
    expect(c.readinessProbe).toMatchObject({ httpGet: { path: "/readyz", port: "health" } });
    expect(c.ports).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "metrics", containerPort: 8080 }),
        expect.objectContaining({ name: "health", containerPort: 8081 }),
      ]),
    );
    expect(c.resources).toMatchObject({ requests: {}, limits: {} });
    const svc = one(docs, "Service", "controller");
    expect(svc.spec).toMatchObject({
      ports: [expect.objectContaining({ port: 8080, targetPort: "metrics" })],
    });
    // The agent is off by default.
    expect(docs.filter((d) => d.metadata.labels?.["app.kubernetes.io/component"] === "agent")).toEqual([]);

    const custom = await render(privilegedNs, [
      "image.tag=dev",
      "replicas=3",
      "logLevel=debug",
      "extraArgs[0]=--workers=8",
    ]);
    const cd = one(custom, "Deployment", "controller");
    const cc = podTemplate(cd).spec.containers[0] as Record<string, unknown> & { args: string[] };
    expect((cd.spec as { replicas: number }).replicas).toBe(3);
    expect(cc.image).toBe("ghcr.io/griddesk/griddesk:dev");
    expect(cc.args).toEqual(expect.arrayContaining(["--log-level=debug", "--workers=8"]));
  });

  test("every object carries the standard labels", async () => {
    for (const d of await render(privilegedNs, ["agent.enabled=true"])) {
      expect(d.metadata.labels).toMatchObject({
        "app.kubernetes.io/name": "griddesk",
        "app.kubernetes.io/instance": RELEASE,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/version": "0.1.0",
        "helm.sh/chart": "griddesk-0.1.0",
      });
    }
  });
});

describe("RBAC", () => {
  test("no role has a wildcard in verbs, resources, apiGroups or resourceNames", async () => {
    const docs = await render(privilegedNs, ["agent.enabled=true"]);
    const roles = [...ofKind(docs, "ClusterRole"), ...ofKind(docs, "Role")];
    expect(ofKind(docs, "ClusterRole")).toHaveLength(2);
    const offending: string[] = [];
    for (const role of roles) {
      const rules = (role as { rules?: PolicyRule[] }).rules ?? [];
      expect(rules.length).toBeGreaterThan(0);
      for (const rule of rules) {
        const fields = {
          verbs: rule.verbs,
          resources: rule.resources,
          apiGroups: rule.apiGroups,
          resourceNames: rule.resourceNames,
        };
        for (const [field, values] of Object.entries(fields)) {
          for (const v of values ?? [])
            if (v.includes("*")) offending.push(`${role.kind}/${role.metadata.name} ${field}: ${v}`);
        }
        if (rule.nonResourceURLs) offending.push(`${role.kind}/${role.metadata.name} nonResourceURLs`);
      }
    }
    expect(offending).toEqual([]);
  });

  /** The verbs a set of roles grants on group/resource. */
  function verbs(roles: Manifest[], group: string, resource: string): string[] {
    const out = new Set<string>();
    for (const role of roles) {
      for (const rule of (role as { rules?: PolicyRule[] }).rules ?? []) {
        if ((rule.apiGroups ?? []).includes(group) && (rule.resources ?? []).includes(resource)) {
          rule.verbs.forEach((v) => out.add(v));
        }
      }
    }
    return [...out].sort();
  }

  test("the KubeVirt agent: VMIs in their namespace only and never their console, Nodes read-only", async () => {
    const docs = await render(privilegedNs, [
      "kubevirtAgent.enabled=true",
      `kubevirtAgent.vmiNamespace=${restrictedNs}`,
      "kubevirtAgent.allowedContainerDiskPrefixes={registry.example.com/golden/,localhost:5000/vdi}",
    ]);
    const roles = [...ofKind(docs, "ClusterRole"), ...ofKind(docs, "Role")].filter(
      (r) => r.metadata.labels?.["app.kubernetes.io/component"] === "kubevirt-agent",
    );
    const cluster = roles.filter((r) => r.kind === "ClusterRole");
    const vmiRole = roles.filter((r) => r.kind === "Role" && r.metadata.namespace === restrictedNs);
    expect(verbs(cluster, "kubevirt.io", "virtualmachineinstances")).toEqual([]); // not cluster-wide
    expect(verbs(vmiRole, "kubevirt.io", "virtualmachineinstances")).toEqual([
      "create",
      "delete",
      "get",
      "list",
      "watch",
    ]);
    expect(verbs(roles, "kubevirt.io", "virtualmachineinstances/vnc")).toEqual([]);
    expect(verbs(roles, "subresources.kubevirt.io", "virtualmachineinstances/vnc")).toEqual([]);
    expect(verbs(cluster, "", "nodes")).toEqual(["get", "list", "watch"]);
    expect(verbs(roles, "", "secrets")).toEqual([]);
    expect(verbs(roles, "griddesk.io", "desktops")).not.toContain("create");
    for (const rule of roles.flatMap((r) => (r as { rules?: PolicyRule[] }).rules ?? []))
      for (const v of [...rule.verbs, ...(rule.resources ?? []), ...(rule.apiGroups ?? [])])
        expect(v).not.toContain("*");
    const deployment = one(docs, "Deployment", "kubevirt-agent");
    const args = (podTemplate(deployment).spec.containers[0] as { args: string[] }).args;
    expect(args).toEqual(
      expect.arrayContaining([
        "--adapter=kubevirt",
        `--vmi-namespace=${restrictedNs}`,
        "--node-selector=kubevirt.io/schedulable=true",
        "--allow-container-disk-prefix=registry.example.com/golden/",
        "--allow-container-disk-prefix=localhost:5000/vdi",
      ]),
    );
  });

  test("the broker: sessions and their status, pools and desktops read-only, console Secrets only in its namespace", async () => {
    const docs = await render(privilegedNs, [
      "broker.enabled=true",
      "broker.tls.secretName=broker-tls",
      "broker.oidc.issuer=https://idp.example.com/realms/staff",
      "broker.oidc.clientSecretName=broker-oidc",
      "broker.oidc.externalUrl=https://desktops.example.com",
    ]);
    const broker = [...ofKind(docs, "ClusterRole"), ...ofKind(docs, "Role")].filter(
      (r) => r.metadata.labels?.["app.kubernetes.io/component"] === "broker",
    );
    const g = "griddesk.io";
    const cluster = broker.filter((r) => r.kind === "ClusterRole");
    expect(verbs(cluster, g, "desktoppools")).toEqual(["get", "list"]);
    expect(verbs(cluster, g, "desktopsessions")).toEqual(["create", "delete", "get", "list", "watch"]);
    expect(verbs(cluster, g, "desktopsessions/status")).toEqual(["patch"]);
    expect(verbs(cluster, g, "desktops")).toEqual(["get"]);
    for (const none of ["desktops/status", "hostnodes", "desktopprofiles"])
      expect(verbs(cluster, g, none)).toEqual([]);
    expect(verbs(cluster, "", "secrets")).toEqual([]);
    expect(verbs(cluster, "coordination.k8s.io", "leases")).toEqual([]);
    const secretRoles = broker.filter((r) => r.kind === "Role" && verbs([r], "", "secrets").length > 0);
    expect(secretRoles.map((r) => [r.metadata.namespace, verbs([r], "", "secrets")])).toEqual([
      [privilegedNs, ["get"]],
    ]);
    for (const rule of broker.flatMap((r) => (r as { rules?: PolicyRule[] }).rules ?? []))
      expect(JSON.stringify(rule)).not.toContain('"*"');
    // The signing key the chart makes: 64 random characters, mounted with TLS into every replica.
    const key = ofKind(docs, "Secret").find((s) => s.metadata.name.endsWith("-broker-signing-key")) as
      (Manifest & { data: Record<string, string> }) | undefined;
    expect(Buffer.from(key?.data["signing.key"] ?? "", "base64").length).toBe(64);
    const pod = podTemplate(one(docs, "Deployment", "broker")).spec as unknown as {
      containers: { args: string[] }[];
      volumes: { name: string; secret?: { secretName: string } }[];
    };
    expect(pod.containers[0]?.args).toEqual(
      expect.arrayContaining(["broker", "--signing-key-file=/etc/griddesk/signing/signing.key"]),
    );
    expect(pod.volumes.find((v) => v.name === "tls")?.secret?.secretName).toBe("broker-tls");
    // OIDC: the provider, the client secret from its Secret, the address browsers come back to.
    expect(pod.containers[0]?.args).toEqual(
      expect.arrayContaining([
        "--oidc-issuer=https://idp.example.com/realms/staff",
        "--oidc-client-secret-file=/etc/griddesk/oidc/client-secret",
        "--external-url=https://desktops.example.com",
      ]),
    );
    expect(pod.volumes.find((v) => v.name === "oidc")?.secret?.secretName).toBe("broker-oidc");
  });

  test("the controller and the agent get what they need and no more", async () => {
    const docs = await render(privilegedNs, ["agent.enabled=true"]);
    const of = (component: string) =>
      [...ofKind(docs, "ClusterRole"), ...ofKind(docs, "Role")].filter(
        (r) => r.metadata.labels?.["app.kubernetes.io/component"] === component,
      );
    const controller = of("controller");
    const agent = of("agent");
    const g = "griddesk.io";

    expect(verbs(controller, g, "desktops")).toEqual(
      expect.arrayContaining(["create", "delete", "get", "list", "watch"]),
    );
    for (const r of ["desktoppools", "desktopsessions", "hostnodes"]) {
      expect(verbs(controller, g, r)).toEqual(expect.arrayContaining(["get", "list", "watch"]));
      expect(verbs(controller, g, r)).not.toContain("create");
    }
    // Profiles: created at a first logon and locked, never deleted (a profile outlives its pools).
    expect(verbs(controller, g, "desktopprofiles")).toEqual(
      expect.arrayContaining(["create", "get", "patch", "update"]),
    );
    expect(verbs(controller, g, "desktopprofiles")).not.toContain("delete");
    expect(verbs(controller, g, "desktopprofiles/status")).toEqual(
      expect.arrayContaining(["patch", "update"]),
    );
    // The agent reads profiles and reports their sync; the lock (spec) is not its to write.
    expect(verbs(agent, g, "desktopprofiles")).toEqual(["get"]);
    expect(verbs(agent, g, "desktopprofiles/status")).toEqual(["get", "patch"]);
    for (const r of ["desktoppools", "desktops", "desktopsessions", "hostnodes"]) {
      expect(verbs(controller, g, `${r}/status`)).toEqual(expect.arrayContaining(["patch", "update"]));
      expect(verbs(controller, g, `${r}/finalizers`)).toEqual(["update"]);
    }
    expect(verbs(controller, "", "nodes")).toEqual(["get", "list", "watch"]);
    // Without the Node cordon mirror the controller neither reads Nodes nor is told to watch them.
    const noMirror = await render(privilegedNs, ["nodeMirror=false"]);
    expect(verbs(ofKind(noMirror, "ClusterRole"), "", "nodes")).toEqual([]);
    expect(podTemplate(one(noMirror, "Deployment", "controller")).spec.containers[0]?.args).toContain(
      "--no-node-mirror",
    );
    expect(verbs(controller, "", "events")).toEqual(["create", "patch"]);
    expect(verbs(controller, "events.k8s.io", "events")).toEqual(["create", "patch"]);
    expect(verbs(controller, "coordination.k8s.io", "leases")).toEqual(
      expect.arrayContaining(["create", "get", "list", "update", "watch"]),
    );
    // Lease writes only in the release namespace (a Role), never cluster-wide.
    const leaseWriters = [...ofKind(docs, "ClusterRole")].filter((r) =>
      verbs([r], "coordination.k8s.io", "leases").some((v) =>
        ["create", "update", "patch", "delete"].includes(v),
      ),
    );
    expect(leaseWriters).toEqual([]);

    expect(verbs(agent, g, "hostnodes")).toEqual(expect.arrayContaining(["get", "list", "watch"]));
    expect(verbs(agent, g, "desktops")).toEqual(expect.arrayContaining(["get", "list", "watch"]));
    expect(verbs(agent, g, "desktops")).not.toContain("create");
    expect(verbs(agent, g, "desktops")).not.toContain("delete");
    expect(verbs(agent, g, "hostnodes/status")).toEqual(expect.arrayContaining(["patch", "update"]));
    expect(verbs(agent, g, "desktops/status")).toEqual(expect.arrayContaining(["patch", "update"]));
    expect(verbs(agent, g, "desktoppools")).toEqual([]);
    expect(verbs(agent, g, "desktopsessions")).toEqual([]);
    expect(verbs(agent, "coordination.k8s.io", "leases")).toEqual(
      expect.arrayContaining(["create", "update"]),
    );
    expect(verbs(agent, "", "events")).toContain("create");
    // No profile store named: no Secret to read. Console Secrets are written in the release
    // namespace only (a Role), never read.
    const agentClusterRoles = agent.filter((r) => r.kind === "ClusterRole");
    expect(verbs(agentClusterRoles, "", "secrets")).toEqual([]);
    const consoleWriters = agent.filter((r) => r.kind === "Role" && verbs([r], "", "secrets").length > 0);
    expect(consoleWriters.map((r) => r.metadata.namespace)).toEqual([privilegedNs]);
    expect(verbs(consoleWriters, "", "secrets")).toEqual(["create", "delete", "patch"]);
    const withStores = await render(privilegedNs, [
      "agent.enabled=true",
      "profileStoreSecrets={store-a,store-b}",
    ]);
    expect(verbs(controller, "", "secrets")).toEqual([]);
    // Named profile stores: exactly those Secrets, get only, for the agent and the controller.
    for (const component of ["agent", "controller"]) {
      const secretRules = ofKind(withStores, "ClusterRole")
        .filter((r) => r.metadata.labels?.["app.kubernetes.io/component"] === component)
        .flatMap((r) => (r as { rules?: PolicyRule[] }).rules ?? [])
        .filter((rule) => rule.resources?.includes("secrets"));
      expect(secretRules).toEqual([
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["store-a", "store-b"] },
      ]);
    }
  });
});

describe("Pod Security", () => {
  test("the controller is admitted where the API server enforces `restricted`", async () => {
    const docs = (await render(restrictedNs)).filter((d) => d.kind !== "CustomResourceDefinition");
    // Deployments are not checked at admission (only warned about); dry-run them all anyway.
    const all = await kubectl(
      ["apply", "--dry-run=server", "--server-side", `--field-manager=${FIELD_MANAGER}-pss`, "-f", "-"],
      toStream(docs),
    );
    expect({ code: all.code, stderr: all.stderr }).toEqual({ code: 0, stderr: "" });

    // A Pod from the Deployment's template is: its ServiceAccount must exist for that.
    await mustKubectl(["apply", "-f", "-"], toStream(ofKind(docs, "ServiceAccount")));
    const pod = podFrom(one(docs, "Deployment", "controller"), restrictedNs);
    const r = await kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], toStream([pod]));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
    expect(r.stdout.trim()).toBe(`pod/${pod.metadata.name}`);

    const spec = podTemplate(one(docs, "Deployment", "controller")).spec;
    expect(spec.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(spec.containers[0]).toMatchObject({
      securityContext: {
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      },
    });
  });

  test("the broker is admitted where the API server enforces `restricted`", async () => {
    const docs = await render(restrictedNs, [
      "broker.enabled=true",
      "broker.tls.secretName=t",
      "broker.staticUsers.secretName=lab-users",
      "crds.install=false",
    ]);
    await mustKubectl(["apply", "-f", "-"], toStream(ofKind(docs, "ServiceAccount")));
    const pod = podFrom(one(docs, "Deployment", "broker"), restrictedNs);
    const r = await kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], toStream([pod]));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  });

  test("the KubeVirt agent, which touches no host, is admitted where the API server enforces `restricted`", async () => {
    const docs = await render(restrictedNs, ["kubevirtAgent.enabled=true", "crds.install=false"]);
    await mustKubectl(["apply", "-f", "-"], toStream(ofKind(docs, "ServiceAccount")));
    const pod = podFrom(one(docs, "Deployment", "kubevirt-agent"), restrictedNs);
    const r = await kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], toStream([pod]));
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  });

  test("the agent is refused under `restricted` (so the check above is real) and admitted under `privileged`", async () => {
    const sets = ["agent.enabled=true", "crds.install=false"];
    const inRestricted = await render(restrictedNs, sets);
    // The ServiceAccount must exist, or admission refuses the Pod for that reason instead.
    await mustKubectl(["apply", "-f", "-"], toStream(ofKind(inRestricted, "ServiceAccount")));
    const refused = await kubectl(
      ["create", "--dry-run=server", "-f", "-"],
      toStream([podFrom(one(inRestricted, "DaemonSet", "agent"), restrictedNs)]),
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
    expect(refused.stderr).toMatch(/restricted volume type "hostPath"/);

    const inPrivileged = await render(privilegedNs, sets);
    await mustKubectl(["apply", "-f", "-"], toStream(ofKind(inPrivileged, "ServiceAccount")));
    const pod = podFrom(one(inPrivileged, "DaemonSet", "agent"), privilegedNs);
    const admitted = await kubectl(["create", "--dry-run=server", "-o", "name", "-f", "-"], toStream([pod]));
    expect({ code: admitted.code, stderr: admitted.stderr }).toEqual({ code: 0, stderr: "" });
    const c = podTemplate(one(inPrivileged, "DaemonSet", "agent")).spec.containers[0] as { args: string[] };
    expect(c.args).toContain("--adapter=libvirt");
    expect(c.args).toContain("--domain-type=kvm");
  });
});

describe("CRDs", () => {
  test("are rendered from files/crds unchanged apart from labels and the keep annotation", async () => {
    const files = crdFiles();
    const rendered = ofKind(await render(privilegedNs), "CustomResourceDefinition");
    expect(rendered.map((c) => c.metadata.name).sort()).toEqual([...files.keys()].sort());
    for (const crd of rendered) {
      expect(crd.metadata.annotations?.[KEEP]).toBe("keep");
      expect(crd.metadata.labels?.["app.kubernetes.io/instance"]).toBe(RELEASE);
      const file = files.get(crd.metadata.name) as Manifest;
      const strip = (m: Manifest) => ({
        ...m,
        metadata: { ...m.metadata, labels: undefined, annotations: undefined },
      });
      expect(strip(crd)).toEqual(strip(file));
    }
  });

  test("crds.install=false renders none, and the rest still renders", async () => {
    const docs = await render(privilegedNs, ["crds.install=false"]);
    expect(ofKind(docs, "CustomResourceDefinition")).toEqual([]);
    expect(ofKind(docs, "Deployment")).toHaveLength(1);
  });

  test("crds.keep=false drops the helm.sh/resource-policy annotation", async () => {
    const crds = ofKind(await render(privilegedNs, ["crds.keep=false"]), "CustomResourceDefinition");
    expect(crds.length).toBe(crdFiles().size);
    for (const crd of crds) expect(crd.metadata.annotations?.[KEEP]).toBeUndefined();
  });
});
