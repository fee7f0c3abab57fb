// Registration, as kubelet registers its Node: create the HostNode if missing, else adopt it by
// merging the agent's labels in. A HostNode of another hypervisor type is refused, not changed.
import { API_VERSION, Kinds, Labels, type HostNode } from "../api/index.js";
import type { HypervisorType } from "../hypervisors/index.js";
import { ConflictError, type Cached, type ObjectClient } from "../runtime/index.js";
import type { AgentHost } from "./options.js";

/** A host this agent must not serve; retrying will not help. */
export class HostRefusedError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = "HostRefusedError";
  }
}

export interface RegistrationContext {
  readonly agent: string;
  readonly type: HypervisorType;
  readonly labels: Readonly<Record<string, string>>;
}

/** The labels every HostNode of this agent carries. */
export function hostLabels(ctx: RegistrationContext): Record<string, string> {
  return { ...ctx.labels, [Labels.Agent]: ctx.agent, [Labels.Hypervisor]: ctx.type };
}

export function hostNodeManifest(host: AgentHost, ctx: RegistrationContext): HostNode {
  return {
    apiVersion: API_VERSION,
    kind: Kinds.HostNode,
    metadata: { name: host.name, labels: { ...host.labels, ...hostLabels(ctx) } },
    spec: {
      hypervisor: { type: ctx.type, [ctx.type]: { ...host.block } },
      ...(host.nodeName !== undefined ? { nodeName: host.nodeName } : {}),
    },
  };
}

/** The labels to merge into an existing HostNode, or undefined when it has them all. */
export function missingLabels(
  existing: Readonly<Record<string, string>> | undefined,
  wanted: Readonly<Record<string, string>>,
): Record<string, string> | undefined {
  const patch = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => existing?.[k] !== v));
  return Object.keys(patch).length > 0 ? patch : undefined;
}

export async function registerHost(
  client: ObjectClient<HostNode>,
  host: AgentHost,
  ctx: RegistrationContext,
): Promise<HostNode | Cached<HostNode>> {
  let node = await client.tryGet({ name: host.name });
  if (node === undefined) {
    try {
      return await client.create(hostNodeManifest(host, ctx));
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      node = await client.get({ name: host.name }); // someone registered it meanwhile: adopt
    }
  }
  if (node.spec.hypervisor.type !== ctx.type) {
    throw new HostRefusedError(
      "HypervisorTypeMismatch",
      `HostNode ${host.name} has hypervisor type ${node.spec.hypervisor.type}, this agent serves ${ctx.type}`,
    );
  }
  const patch = missingLabels(node.metadata.labels, { ...host.labels, ...hostLabels(ctx) });
  if (patch === undefined) return node;
  return client.mergePatch({ name: host.name }, { metadata: { labels: patch } });
}
