// ObjectClient against the API server: each write kind with the content type it needs,
// optimistic concurrency surfacing as ConflictError, and status subresource writes.
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { ObjectClient } from "../../src/runtime/client.js";
import { ConflictError, NotFoundError } from "../../src/runtime/errors.js";
import type { KubeObject, ResourceRef } from "../../src/runtime/resource.js";
import { RestClient } from "../../src/runtime/rest.js";
import { createTestNamespace, deleteNamespace, eventually, kubeConfig } from "./support/cluster.js";

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}
interface Pod extends KubeObject {
  spec: unknown;
  status?: { message?: string; phase?: string };
}

const CONFIGMAPS: ResourceRef = { group: "", version: "v1", plural: "configmaps", namespaced: true };
const PODS: ResourceRef = { group: "", version: "v1", plural: "pods", namespaced: true };

let ns: string;
let cms: ObjectClient<ConfigMap>;

beforeAll(async () => {
  ns = await createTestNamespace("rt-client");
  cms = new ObjectClient<ConfigMap>(new RestClient(kubeConfig()), CONFIGMAPS, {
    fieldManager: "griddesk-test",
  });
});
afterAll(async () => deleteNamespace(ns));

describe("ObjectClient against the API server", () => {
  it("creates, reads, lists and deletes; a missing object is NotFound or undefined", async () => {
    const created = await cms.create({
      metadata: { name: "crud", namespace: ns, labels: { t: "crud" } },
      data: { a: "1" },
    });
    expect(created.metadata.uid).toBeTruthy();
    expect((await cms.get({ namespace: ns, name: "crud" })).data).toEqual({ a: "1" });
    expect((await cms.list({ namespace: ns, labelSelector: "t=crud" })).map((o) => o.metadata.name)).toEqual([
      "crud",
    ]);
    await expect(cms.create({ metadata: { name: "crud", namespace: ns } })).rejects.toBeInstanceOf(
      ConflictError,
    );
    expect(await cms.delete({ namespace: ns, name: "crud" })).toBe(true);
    expect(await cms.delete({ namespace: ns, name: "crud" })).toBe(false);
    expect(await cms.tryGet({ namespace: ns, name: "crud" })).toBeUndefined();
    await expect(cms.get({ namespace: ns, name: "crud" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("update is checked against resourceVersion: a stale copy gets ConflictError", async () => {
    const v1 = await cms.create({ metadata: { name: "occ", namespace: ns }, data: { n: "1" } });
    const v2 = await cms.update({ ...v1, data: { n: "2" } });
    expect(v2.metadata.resourceVersion).not.toBe(v1.metadata.resourceVersion);
    await expect(cms.update({ ...v1, data: { n: "stale" } })).rejects.toBeInstanceOf(ConflictError);
    expect(() => cms.update({ metadata: { name: "occ", namespace: ns } })).toThrow(/resourceVersion/);
    expect((await cms.get({ namespace: ns, name: "occ" })).data).toEqual({ n: "2" });
  });

  it("merge patch, JSON patch (with a test op) and server-side apply each reach the server as such", async () => {
    await cms.create({ metadata: { name: "patch", namespace: ns }, data: { keep: "k", drop: "d" } });
    // A merge patch removes a key with null (a JSON patch would reject this body).
    const merged = await cms.mergePatch(
      { namespace: ns, name: "patch" },
      { data: { drop: null, added: "a" } },
    );
    expect(merged.data).toEqual({ keep: "k", added: "a" });

    const rv = merged.metadata.resourceVersion as string;
    const patched = await cms.jsonPatch({ namespace: ns, name: "patch" }, [
      { op: "test", path: "/metadata/resourceVersion", value: rv },
      { op: "replace", path: "/data/keep", value: "k2" },
    ]);
    expect(patched.data?.keep).toBe("k2");
    await expect(
      cms.jsonPatch({ namespace: ns, name: "patch" }, [
        { op: "test", path: "/metadata/resourceVersion", value: rv },
        { op: "replace", path: "/data/keep", value: "k3" },
      ]),
    ).rejects.toThrow(/422|test/i);

    const applied = await cms.apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "patch", namespace: ns },
      data: { owned: "by-apply" },
    });
    expect(applied.data).toEqual({ keep: "k2", added: "a", owned: "by-apply" });
    const managers = (applied.metadata.managedFields as { manager: string; operation: string }[]).map(
      (m) => `${m.manager}/${m.operation}`,
    );
    expect(managers).toContain("griddesk-test/Apply");
  });

  it("writes the status subresource with a resourceVersion check", async () => {
    const pods = new ObjectClient<Pod>(new RestClient(kubeConfig()), PODS);
    const body: Pod = {
      metadata: { name: "status", namespace: ns },
      spec: {
        automountServiceAccountToken: false,
        containers: [{ name: "c", image: "registry.invalid/none:1" }],
      },
    };
    // The namespace's default ServiceAccount appears shortly after the namespace does.
    const pod = await eventually("a Pod created (once the default ServiceAccount exists)", () =>
      pods.create(body),
    );
    const updated = await pods.updateStatus({ ...pod, status: { ...pod.status, message: "from test" } });
    expect(updated.status?.message).toBe("from test");
    await expect(pods.updateStatus({ ...pod, status: { message: "stale" } })).rejects.toBeInstanceOf(
      ConflictError,
    );
    const viaPatch = await pods.mergePatch(
      { namespace: ns, name: "status" },
      { status: { message: "patched" } },
      { subresource: "status" },
    );
    expect(viaPatch.status?.message).toBe("patched");
    // The main resource ignores status changes.
    const ignored = await pods.mergePatch(
      { namespace: ns, name: "status" },
      { status: { message: "ignored" } },
    );
    expect(ignored.status?.message).toBe("patched");
  }, 60_000);
});
