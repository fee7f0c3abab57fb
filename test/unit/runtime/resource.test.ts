import { describe, expect, it } from "@jest/globals";
import { controllerOwner, ownObject } from "../../../src/runtime/mapping.js";
import {
  collectionPath,
  keyOf,
  objectPath,
  parseKey,
  type KubeObject,
  type ResourceRef,
} from "../../../src/runtime/resource.js";
import { toCached } from "../../../src/runtime/store.js";

const configmaps: ResourceRef = { group: "", version: "v1", plural: "configmaps", namespaced: true };
const hostnodes: ResourceRef = {
  group: "griddesk.io",
  version: "v1alpha1",
  plural: "hostnodes",
  namespaced: false,
};

describe("resource paths and keys", () => {
  it("builds core, custom, namespaced and cluster-scoped paths", () => {
    expect(collectionPath(configmaps)).toBe("/api/v1/configmaps");
    expect(collectionPath(configmaps, "team-a")).toBe("/api/v1/namespaces/team-a/configmaps");
    expect(collectionPath(hostnodes, "ignored")).toBe("/apis/griddesk.io/v1alpha1/hostnodes");
    expect(objectPath(hostnodes, { name: "rack3-node07" }, "status")).toBe(
      "/apis/griddesk.io/v1alpha1/hostnodes/rack3-node07/status",
    );
    expect(() => objectPath(configmaps, { name: "x" })).toThrow(/namespaced/);
  });

  it("round-trips keys", () => {
    expect(keyOf({ namespace: "ns", name: "a" })).toBe("ns/a");
    expect(parseKey("ns/a")).toEqual({ namespace: "ns", name: "a" });
    expect(parseKey("node-1")).toEqual({ name: "node-1" });
  });
});

describe("map functions", () => {
  const obj = (refs: NonNullable<KubeObject["metadata"]["ownerReferences"]>) =>
    toCached<KubeObject>({ metadata: { name: "d", namespace: "ns", ownerReferences: refs } });

  it("ownObject maps to the object itself", () => {
    expect(ownObject(obj([]))).toEqual([{ namespace: "ns", name: "d" }]);
    expect(ownObject(toCached<KubeObject>({ metadata: { name: "n" } }))).toEqual([{ name: "n" }]);
  });

  it("controllerOwner follows only the controlling owner of the right kind and group", () => {
    const map = controllerOwner<KubeObject>("DesktopPool", "griddesk.io");
    const ref = { apiVersion: "griddesk.io/v1alpha1", kind: "DesktopPool", name: "p", uid: "u" };
    expect(map(obj([{ ...ref, controller: true }]))).toEqual([{ namespace: "ns", name: "p" }]);
    expect(map(obj([ref]))).toEqual([]);
    expect(map(obj([{ ...ref, apiVersion: "other.io/v1", controller: true }]))).toEqual([]);
    const host = controllerOwner<KubeObject>("HostNode", "griddesk.io", false);
    expect(host(obj([{ ...ref, kind: "HostNode", name: "h", controller: true }]))).toEqual([{ name: "h" }]);
  });
});
