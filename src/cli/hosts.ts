// Helpers the cordon and drain commands share: a HostNode client as kubectl-griddesk, and the
// hosts a command names — by name, by label selector (as `kubectl get -l` takes it), or both.
import type { HostNode } from "../api/types.generated.js";
import { FieldManagers } from "../api/constants.js";
import { Resources } from "../controllers/shared/resources.js";
import { ObjectClient, RestClient } from "../runtime/index.js";
import { loadKubeConfig } from "./kubeconfig.js";

export interface TargetOptions {
  kubeconfig?: string;
  selector?: string;
}

export function hostClient(kubeconfig?: string): ObjectClient<HostNode> {
  const rest = new RestClient(loadKubeConfig(kubeconfig));
  return new ObjectClient<HostNode>(rest, Resources.HostNode, { fieldManager: FieldManagers.Cli });
}

/** The named hosts (each must exist) and those the selector matches, by name, without duplicates. */
export async function targetHosts(
  client: ObjectClient<HostNode>,
  names: readonly string[],
  o: TargetOptions,
): Promise<HostNode[]> {
  if (names.length === 0 && !o.selector) throw new Error("name one or more hosts, or pass --selector");
  const found = new Map<string, HostNode>();
  for (const name of names) {
    const host = await client.tryGet({ name });
    if (!host) throw new Error(`HostNode "${name}" not found`);
    found.set(name, host);
  }
  if (o.selector) {
    const matched = await client.list({ labelSelector: o.selector });
    if (matched.length === 0 && names.length === 0)
      throw new Error(`no HostNode matches selector "${o.selector}"`);
    for (const h of matched) found.set(h.metadata.name, h);
  }
  return [...found.values()].sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}
