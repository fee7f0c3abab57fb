import { describe, expect, it } from "@jest/globals";
import { Annotations } from "../../../src/api/constants.js";
import { mirrorAction, mirrorPatch, type NodeObject } from "../../../src/controllers/host/node-mirror.js";
import { host } from "./fixtures.js";

const node = (unschedulable?: boolean): NodeObject => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "k8s-7" },
  spec: unschedulable === undefined ? {} : { unschedulable },
});
const mirror = { [Annotations.CordonedBy]: "node-mirror" };
const person = { [Annotations.CordonedBy]: "kubectl-griddesk" };

describe("mirrorAction", () => {
  it.each([
    ["Node cordoned, host schedulable → cordon", host("h", { nodeName: "k8s-7" }), node(true), "cordon"],
    [
      "Node cordoned, host already cordoned by a person → leave it",
      host("h", { nodeName: "k8s-7", unschedulable: true, annotations: person }),
      node(true),
      undefined,
    ],
    [
      "Node cordoned, host cordoned by the mirror → nothing to do",
      host("h", { nodeName: "k8s-7", unschedulable: true, annotations: mirror }),
      node(true),
      undefined,
    ],
    [
      "Node uncordoned, mirror's cordon → uncordon",
      host("h", { nodeName: "k8s-7", unschedulable: true, annotations: mirror }),
      node(false),
      "uncordon",
    ],
    [
      "Node uncordoned, a person's cordon → never lifted",
      host("h", { nodeName: "k8s-7", unschedulable: true, annotations: person }),
      node(false),
      undefined,
    ],
    [
      "Node uncordoned, an unmarked cordon → never lifted",
      host("h", { nodeName: "k8s-7", unschedulable: true }),
      node(false),
      undefined,
    ],
    [
      "Node deleted, mirror's cordon → uncordon",
      host("h", { nodeName: "k8s-7", unschedulable: true, annotations: mirror }),
      undefined,
      "uncordon",
    ],
    [
      "nodeName removed, mirror's cordon → uncordon",
      host("h", { unschedulable: true, annotations: mirror }),
      node(true),
      "uncordon",
    ],
    [
      "mirror mark left on a schedulable host → release the mark",
      host("h", { nodeName: "k8s-7", annotations: mirror }),
      node(false),
      "release",
    ],
    ["no nodeName → nothing", host("h"), node(true), undefined],
  ] as const)("%s", (_what, h, n, action) => {
    expect(mirrorAction(h, n)).toBe(action);
  });
});

describe("mirrorPatch", () => {
  it("cordon: checked against the resourceVersion, marks the host as the mirror's", () => {
    expect(mirrorPatch(host("h", { nodeName: "k8s-7" }), "cordon")).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      { op: "add", path: "/spec/unschedulable", value: true },
      { op: "add", path: "/metadata/annotations", value: { [Annotations.CordonedBy]: "node-mirror" } },
    ]);
    expect(mirrorPatch(host("h", { annotations: { a: "b" } }), "cordon")[2]).toEqual({
      op: "add",
      path: "/metadata/annotations/griddesk.io~1cordoned-by",
      value: "node-mirror",
    });
  });
  it("uncordon lifts the cordon and the mark; release only the mark", () => {
    const h = host("h", { unschedulable: true, annotations: mirror });
    expect(mirrorPatch(h, "uncordon").slice(1)).toEqual([
      { op: "add", path: "/spec/unschedulable", value: false },
      { op: "remove", path: "/metadata/annotations/griddesk.io~1cordoned-by" },
    ]);
    expect(mirrorPatch(h, "release").slice(1)).toEqual([
      { op: "remove", path: "/metadata/annotations/griddesk.io~1cordoned-by" },
    ]);
  });
});
