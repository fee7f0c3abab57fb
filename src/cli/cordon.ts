// `griddesk cordon|uncordon HOST… [--selector]`: stop or resume placement on hosts, as
// `kubectl cordon` does for Nodes. Uncordon also returns a drained (or still waiting) host to
// service by removing its drain request; a drain in progress must be aborted explicitly.
import { Command } from "commander";
import { Annotations, CORDONED_BY_NODE_MIRROR, FieldManagers } from "../api/constants.js";
import type { HostNode } from "../api/types.generated.js";
import { hostClient, targetHosts } from "./hosts.js";

export function cordonCommand(): Command {
  return new Command("cordon")
    .description("mark hosts unschedulable: no new desktops are placed there; sessions continue")
    .argument("[hosts...]", "HostNode names")
    .option("-l, --selector <selector>", "also every HostNode matching this label selector")
    .option("--kubeconfig <path>", "kubeconfig file")
    .action(async (names: string[], o) => {
      const client = hostClient(o.kubeconfig);
      for (const host of await targetHosts(client, names, o)) {
        await client.mergePatch(host.metadata, {
          metadata: { annotations: { [Annotations.CordonedBy]: FieldManagers.Cli } },
          spec: { unschedulable: true },
        });
        console.log(`hostnode/${host.metadata.name} cordoned`);
      }
    });
}

export function uncordonCommand(): Command {
  return new Command("uncordon")
    .description("return hosts to service: schedulable again, and a finished drain request removed")
    .argument("[hosts...]", "HostNode names")
    .option("-l, --selector <selector>", "also every HostNode matching this label selector")
    .option("--kubeconfig <path>", "kubeconfig file")
    .action(async (names: string[], o) => {
      const client = hostClient(o.kubeconfig);
      const hosts = await targetHosts(client, names, o);
      const busy = hosts.filter(drainInProgress);
      if (busy.length > 0)
        throw new Error(
          `${busy.map((h) => h.metadata.name).join(", ")}: a drain is in progress; ` +
            `abort it with \`griddesk drain --abort HOST\` first`,
        );
      for (const host of hosts) {
        await client.mergePatch(host.metadata, {
          metadata: { annotations: { [Annotations.CordonedBy]: null } },
          spec: { unschedulable: false, drain: null },
        });
        console.log(`hostnode/${host.metadata.name} uncordoned`);
        if (host.metadata.annotations?.[Annotations.CordonedBy] === CORDONED_BY_NODE_MIRROR)
          console.warn(
            `  note: it mirrors Kubernetes Node ${host.spec.nodeName}; while that Node is cordoned ` +
              `the host is cordoned again (kubectl uncordon ${host.spec.nodeName})`,
          );
      }
    });
}

/** A drain that started and has not finished. */
export function drainInProgress(host: HostNode): boolean {
  const phase = host.status?.drain?.phase;
  return host.spec.drain !== undefined && (phase === "Draining" || phase === "ForcingLogoff");
}
