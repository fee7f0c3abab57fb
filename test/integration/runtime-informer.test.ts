// The informer against a real API server: events for ConfigMaps, relists that emit only real
// changes, recovery from 410 Gone, and a cache handlers cannot mutate.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "@jest/globals";
import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { ObjectClient } from "../../src/runtime/client.js";
import { Informer } from "../../src/runtime/informer.js";
import type { KubeObject, ResourceRef } from "../../src/runtime/resource.js";
import { RestClient } from "../../src/runtime/rest.js";
import { labelIndex, type Cached } from "../../src/runtime/store.js";
import { newWatch, type WatchClient } from "../../src/runtime/watch.js";
import { createTestNamespace, deleteNamespace, eventually, kubeConfig } from "./support/cluster.js";

const CONFIGMAPS: ResourceRef = { group: "", version: "v1", plural: "configmaps", namespaced: true };

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

type Event = { type: "add" | "update" | "delete"; name: string; rv?: string };

let ns: string;
let core: k8s.CoreV1Api;
const informers: Informer<ConfigMap>[] = [];

beforeAll(async () => {
  ns = await createTestNamespace("rt-informer");
  core = kubeConfig().makeApiClient(k8s.CoreV1Api);
});
afterEach(async () => {
  await Promise.all(informers.splice(0).map((i) => i.stop()));
});
afterAll(async () => deleteNamespace(ns));

function start(opts: { watcher?: WatchClient; stallTimeoutMs?: number; labelSelector?: string } = {}) {
  const kc = kubeConfig();
  const events: Event[] = [];
  const informer = new Informer<ConfigMap>(new RestClient(kc), opts.watcher ?? newWatch(kc), {
    resource: CONFIGMAPS,
    namespace: ns,
    labelSelector: opts.labelSelector,
    pageSize: 2, // several pages even for a handful of objects
    stallTimeoutMs: opts.stallTimeoutMs,
    backoff: { initialMs: 100, maxMs: 1000 },
    indexers: { app: labelIndex<ConfigMap>("app") },
  });
  const record = (type: Event["type"]) => (o: Cached<ConfigMap>) =>
    events.push({ type, name: o.metadata.name, rv: o.metadata.resourceVersion });
  informer.addHandler({
    add: record("add"),
    update: (_o, n) => record("update")(n),
    delete: record("delete"),
  });
  informer.start();
  informers.push(informer);
  return { informer, events };
}

const configMap = (name: string, labels: Record<string, string>, data: Record<string, string> = {}) => ({
  metadata: { name, namespace: ns, labels },
  data,
});

describe("Informer against the API server", () => {
  it("lists in pages, then delivers add, update and delete; keeps get, list and indexes current", async () => {
    const set = `s1-${Date.now()}`;
    for (const n of ["a", "b", "c"])
      await core.createNamespacedConfigMap({
        namespace: ns,
        body: configMap(`${set}-${n}`, { set, app: "x" }),
      });
    const { informer, events } = start({ labelSelector: `set=${set}` });
    expect(await informer.waitForSync()).toBe(true);
    expect(
      informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([`${set}-a`, `${set}-b`, `${set}-c`]);
    expect(informer.stats().lists).toBe(1);
    const cached = informer.get(`${ns}/${set}-a`);
    expect(cached?.kind).toBe("ConfigMap");
    expect(cached?.apiVersion).toBe("v1");
    expect(cached?.metadata.managedFields).toBeUndefined();

    await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`${set}-d`, { set, app: "y" }) });
    await core.patchNamespacedConfigMap(
      { namespace: ns, name: `${set}-a`, body: { data: { k: "v" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    await core.deleteNamespacedConfigMap({ namespace: ns, name: `${set}-b` });
    await eventually("watch events", () => events.some((e) => e.type === "delete"));
    await eventually("all three events", () => events.length >= 6);

    expect(events.slice(3).map((e) => `${e.type} ${e.name}`)).toEqual([
      `add ${set}-d`,
      `update ${set}-a`,
      `delete ${set}-b`,
    ]);
    expect(informer.get(`${ns}/${set}-a`)?.data).toEqual({ k: "v" });
    expect(informer.get(`${ns}/${set}-b`)).toBeUndefined();
    expect(informer.byIndex("app", "y").map((o) => o.metadata.name)).toEqual([`${set}-d`]);
    expect(
      informer
        .byIndex("app", "x")
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual([`${set}-a`, `${set}-c`]);
  }, 60_000);

  it("relists after a stalled watch without re-emitting unchanged objects", async () => {
    const set = `s2-${Date.now()}`;
    for (const n of ["a", "b", "c"])
      await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`${set}-${n}`, { set }) });
    const { informer, events } = start({ labelSelector: `set=${set}`, stallTimeoutMs: 1500 });
    await informer.waitForSync();
    // Nothing changes; the stall timer tears down the quiet watch and forces relists.
    await eventually("three relists", () => informer.stats().lists >= 3, 45_000);
    expect(events.map((e) => e.type)).toEqual(["add", "add", "add"]);

    // A change made between watches is still seen exactly once.
    await core.deleteNamespacedConfigMap({ namespace: ns, name: `${set}-c` });
    await eventually("delete seen", () => events.some((e) => e.type === "delete"));
    const listsBefore = informer.stats().lists;
    await eventually("another relist", () => informer.stats().lists > listsBefore + 1, 45_000);
    expect(events.map((e) => `${e.type} ${e.name}`)).toEqual([
      `add ${set}-a`,
      `add ${set}-b`,
      `add ${set}-c`,
      `delete ${set}-c`,
    ]);
  }, 120_000);

  it("after 410 Gone relists and converges (a custom resource)", async () => {
    // A throwaway CRD: its watch cache starts now, so resourceVersion 1 is older than anything
    // the server can replay and a watch from it gets a real 410 Gone (an ERROR event).
    const group = `rt-${randomBytes(3).toString("hex")}.griddesk.io`;
    const probes: ResourceRef = { group, version: "v1", plural: "probes", namespaced: true };
    const crds = kubeConfig().makeApiClient(k8s.ApiextensionsV1Api);
    await crds.createCustomResourceDefinition({
      body: {
        metadata: { name: `probes.${group}` },
        spec: {
          group,
          scope: "Namespaced",
          names: { plural: "probes", singular: "probe", kind: "Probe" },
          versions: [
            {
              name: "v1",
              served: true,
              storage: true,
              schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
            },
          ],
        },
      },
    });
    try {
      const client = new ObjectClient<KubeObject>(new RestClient(kubeConfig()), probes);
      const probe = (name: string) => ({
        apiVersion: `${group}/v1`,
        kind: "Probe",
        metadata: { name, namespace: ns },
      });
      await eventually("CRD served", async () =>
        client.create(probe("a")).then(
          () => true,
          () => false,
        ),
      );

      const real = newWatch(kubeConfig());
      const sentVersions: unknown[] = [];
      const watcher: WatchClient = {
        watch: (path, query, onEvent, onDone) => {
          const q = sentVersions.length === 0 ? { ...query, resourceVersion: "1" } : query;
          sentVersions.push(q.resourceVersion);
          return real.watch(path, q, onEvent, onDone);
        },
      };
      const kc = kubeConfig();
      const events: string[] = [];
      const informer = new Informer<KubeObject>(new RestClient(kc), watcher, {
        resource: probes,
        namespace: ns,
      });
      informers.push(informer as Informer<ConfigMap>);
      informer.addHandler({
        add: (o) => events.push(`add ${o.metadata.name}`),
        update: (_o, n) => events.push(`update ${n.metadata.name}`),
        delete: (o) => events.push(`delete ${o.metadata.name}`),
      });
      informer.start();
      await informer.waitForSync();
      await eventually("relist after 410", () => informer.stats().lists >= 2);
      await client.create(probe("b"));
      await eventually("new object seen", () => informer.get(`${ns}/b`) !== undefined);
      expect(events).toEqual(["add a", "add b"]);
      expect(sentVersions[0]).toBe("1");
      expect(informer.get(`${ns}/a`)?.kind).toBe("Probe");
    } finally {
      await crds.deleteCustomResourceDefinition({ name: `probes.${group}` });
    }
  }, 60_000);

  it("recovers from a failed watch (HTTP 400) with backoff and a relist", async () => {
    const set = `s5-${Date.now()}`;
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`${set}-a`, { set }) });
    const real = newWatch(kubeConfig());
    let attempts = 0;
    const watcher: WatchClient = {
      watch: (path, query, onEvent, onDone) => {
        // The first two watches ask for a field the server does not support: a real 400.
        const q = attempts++ < 2 ? { ...query, fieldSelector: "metadata.bogus=x" } : query;
        return real.watch(path, q, onEvent, onDone);
      },
    };
    const { informer, events } = start({ watcher, labelSelector: `set=${set}` });
    await informer.waitForSync();
    await eventually("two failed watches and relists", () => informer.stats().lists >= 3);
    await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`${set}-b`, { set }) });
    await eventually("new object seen", () => informer.get(`${ns}/${set}-b`) !== undefined);
    expect(events.map((e) => `${e.type} ${e.name}`)).toEqual([`add ${set}-a`, `add ${set}-b`]);
  }, 60_000);

  it("informs on a cluster-scoped kind, keyed by name alone", async () => {
    const CLUSTERROLES: ResourceRef = {
      group: "rbac.authorization.k8s.io",
      version: "v1",
      plural: "clusterroles",
      namespaced: false,
    };
    const set = `rt-${randomBytes(3).toString("hex")}`;
    const rbac = kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    const kc = kubeConfig();
    const informer = new Informer<KubeObject>(new RestClient(kc), newWatch(kc), {
      resource: CLUSTERROLES,
      labelSelector: `set=${set}`,
    });
    informers.push(informer as Informer<ConfigMap>);
    const events: string[] = [];
    informer.addHandler({
      add: (o) => events.push(`add ${o.metadata.name}`),
      delete: (o) => events.push(`delete ${o.metadata.name}`),
    });
    informer.start();
    await informer.waitForSync();
    await rbac.createClusterRole({ body: { metadata: { name: set, labels: { set } }, rules: [] } });
    await eventually("add", () => informer.get(set) !== undefined);
    expect(informer.get(set)?.kind).toBe("ClusterRole");
    await rbac.deleteClusterRole({ name: set });
    await eventually("delete", () => informer.get(set) === undefined);
    expect(events).toEqual([`add ${set}`, `delete ${set}`]);
  }, 60_000);

  it("hands out frozen objects: a handler cannot change what other readers see", async () => {
    const set = `s4-${Date.now()}`;
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: configMap(`${set}-a`, { set }, { color: "blue" }),
    });
    const { informer } = start({ labelSelector: `set=${set}` });
    const errors: unknown[] = [];
    informer.addHandler({
      add: (o) => {
        try {
          (o as ConfigMap).data!.color = "red";
        } catch (err) {
          errors.push(err);
        }
      },
    });
    await informer.waitForSync();
    await eventually("handler ran", () => errors.length > 0);
    expect(errors[0]).toBeInstanceOf(TypeError);
    expect(informer.get(`${ns}/${set}-a`)?.data).toEqual({ color: "blue" });
  }, 60_000);
});
