// Mirrors a Kubernetes Node's cordon onto the HostNode that names it in spec.nodeName, so that
// `kubectl cordon` / `kubectl drain` of the Node stops placement on the host too. The mirror
// records itself in Annotations.CordonedBy and only ever lifts a cordon it set: a host cordoned
// by a person stays cordoned when the Node is uncordoned.
import { Annotations, CORDONED_BY_NODE_MIRROR } from "../../api/constants.js";
import type { HostNode } from "../../api/types.generated.js";
import type {
  Cached,
  Informer,
  JsonPatchOp,
  KubeObject,
  ObjectClient,
  ReconcileContext,
  Reconciler,
  Request,
  Result,
} from "../../runtime/index.js";
import { done } from "../../runtime/index.js";

export interface NodeObject extends KubeObject {
  spec?: { unschedulable?: boolean };
}

export type MirrorAction = "cordon" | "uncordon" | "release" | undefined;

/** Hosts by the Node they name (an index on the HostNode informer). */
export const BY_NODE_NAME = "node-name";
export const nodeNameIndexer = (h: Cached<HostNode>): string[] => (h.spec.nodeName ? [h.spec.nodeName] : []);

/** What the mirror should do (pure). "release": drop a stale mirror mark without changing the cordon. */
export function mirrorAction(host: Cached<HostNode>, node: Cached<NodeObject> | undefined): MirrorAction {
  const ours = host.metadata.annotations?.[Annotations.CordonedBy] === CORDONED_BY_NODE_MIRROR;
  const cordoned = host.spec.unschedulable === true;
  const nodeCordoned = host.spec.nodeName !== undefined && node?.spec?.unschedulable === true;
  if (nodeCordoned) return cordoned ? undefined : "cordon";
  if (ours) return cordoned ? "uncordon" : "release";
  return undefined;
}

const ANNOTATION_PATH = `/metadata/annotations/${Annotations.CordonedBy.replace("/", "~1")}`;

/** The resourceVersion-checked JSON patch that carries out an action. */
export function mirrorPatch(host: Cached<HostNode>, action: Exclude<MirrorAction, undefined>): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [
    { op: "test", path: "/metadata/resourceVersion", value: host.metadata.resourceVersion },
  ];
  if (action === "cordon") {
    ops.push({ op: "add", path: "/spec/unschedulable", value: true });
    ops.push(
      host.metadata.annotations
        ? { op: "add", path: ANNOTATION_PATH, value: CORDONED_BY_NODE_MIRROR }
        : {
            op: "add",
            path: "/metadata/annotations",
            value: { [Annotations.CordonedBy]: CORDONED_BY_NODE_MIRROR },
          },
    );
    return ops;
  }
  if (action === "uncordon") ops.push({ op: "add", path: "/spec/unschedulable", value: false });
  ops.push({ op: "remove", path: ANNOTATION_PATH });
  return ops;
}

export class NodeMirrorReconciler implements Reconciler {
  constructor(
    private readonly deps: {
      hosts: Informer<HostNode>;
      nodes: Informer<NodeObject>;
      client: ObjectClient<HostNode>;
      events: { event(obj: Cached<HostNode>, type: "Normal", reason: string, message: string): void };
    },
  ) {}

  async reconcile(req: Request, rc: ReconcileContext): Promise<Result> {
    const host = this.deps.hosts.get(req.name);
    if (!host || host.metadata.deletionTimestamp) return done();
    const node = host.spec.nodeName ? this.deps.nodes.get(host.spec.nodeName) : undefined;
    const action = mirrorAction(host, node);
    if (!action) return done();
    await this.deps.client.jsonPatch(host.metadata, mirrorPatch(host, action)); // a conflict retries
    rc.log.info({ host: req.name, node: host.spec.nodeName, action }, "mirrored Node cordon");
    if (action === "cordon")
      this.deps.events.event(host, "Normal", "Cordoned", `Kubernetes Node ${host.spec.nodeName} is cordoned`);
    if (action === "uncordon")
      this.deps.events.event(
        host,
        "Normal",
        "Uncordoned",
        `Kubernetes Node ${host.spec.nodeName} was uncordoned`,
      );
    return done();
  }
}
