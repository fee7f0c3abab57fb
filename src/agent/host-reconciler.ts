// Reports each served host's facts, capacity and cached images into its HostNode status, by a
// merge patch of the agent's own fields, and only when they differ from the cache. Runs on
// HostNode changes, on adapter image hints, after VM creates and deletes, and periodically.
import type { HostNode } from "../api/index.js";
import {
  done,
  requeueAfter,
  type Informer,
  type ObjectClient,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from "../runtime/index.js";
import { agentHostStatus, hostStatusPatch } from "./host-status.js";
import type { HostTable } from "./hosts.js";

export interface HostReconcilerDeps {
  readonly agent: string;
  readonly nodes: Informer<HostNode>;
  readonly client: ObjectClient<HostNode>;
  readonly hosts: HostTable;
  readonly resyncMs: number;
}

export class HostStatusReconciler implements Reconciler {
  constructor(private readonly deps: HostReconcilerDeps) {}

  async reconcile(req: Request, ctx: ReconcileContext): Promise<Result> {
    const host = this.deps.hosts.get(req.name);
    if (host === undefined) return done(); // not ours, or not served (yet): heartbeat serves it
    const node = this.deps.nodes.get(req.name);
    if (node === undefined) {
      ctx.log.debug("HostNode not in the cache (yet)");
      return done(); // its add event re-queues it
    }
    const [facts, images] = await Promise.all([host.adapter.probe(), host.adapter.listImages()]);
    const desired = agentHostStatus(this.deps.agent, facts, images, node.spec.capacity);
    const patch = hostStatusPatch(node.status, desired);
    if (patch !== undefined) {
      await this.deps.client.mergePatch({ name: req.name }, { status: patch }, { subresource: "status" });
      ctx.log.debug({ fields: Object.keys(patch) }, "host status reported");
    }
    return requeueAfter(this.deps.resyncMs);
  }
}
