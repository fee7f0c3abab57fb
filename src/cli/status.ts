// `griddesk status`: the control room in one screen — pools and hosts as tables.
import { Command } from "commander";
import { isConditionTrue } from "../api/conditions.js";
import type { Condition, DesktopPool, HostNode } from "../api/types.generated.js";
import { Resources } from "../controllers/shared/resources.js";
import { ObjectClient, RestClient } from "../runtime/index.js";
import { formatBytesRounded } from "../controllers/shared/format.js";
import { parseBytes } from "../scheduler/index.js";
import { loadKubeConfig } from "./kubeconfig.js";

export function statusCommand(): Command {
  return new Command("status")
    .description("show pools and hosts as tables")
    .option("--kubeconfig <path>", "kubeconfig file")
    .option("-n, --namespace <ns>", "only pools in this namespace (default: all)")
    .action(async (o) => {
      const rest = new RestClient(loadKubeConfig(o.kubeconfig));
      const [pools, hosts] = await Promise.all([
        new ObjectClient<DesktopPool>(rest, Resources.DesktopPool).list({ namespace: o.namespace }),
        new ObjectClient<HostNode>(rest, Resources.HostNode).list(),
      ]);
      console.log(renderPools(pools));
      console.log();
      console.log(renderHosts(hosts));
    });
}

export function renderPools(pools: readonly DesktopPool[]): string {
  const rows = pools.map((p) => [
    p.metadata.namespace ?? "",
    p.metadata.name,
    `${p.spec.min ?? 0}/${p.spec.buffer ?? 0}/${p.spec.max}`,
    String(p.status?.available ?? 0),
    String(p.status?.provisioning ?? 0),
    String(p.status?.inUse ?? 0),
    String(p.status?.replicas ?? 0),
    String(p.status?.hosts ?? 0),
    readyText(p.status?.conditions),
  ]);
  return table(
    ["NAMESPACE", "POOL", "MIN/BUFFER/MAX", "AVAILABLE", "PROVISIONING", "IN-USE", "TOTAL", "HOSTS", "READY"],
    rows,
  );
}

export function renderHosts(hosts: readonly HostNode[]): string {
  const rows = hosts.map((h) => [
    h.metadata.name,
    h.spec.hypervisor.type,
    h.status?.facts?.cpuModel ?? "",
    `${h.status?.allocated?.cpu ?? 0}/${h.status?.allocatable?.cpu ?? "?"}`,
    `${readableBytes(h.status?.allocated?.memory ?? 0)}/${readableBytes(h.status?.allocatable?.memory)}`,
    String(h.status?.allocated?.desktops ?? 0),
    String(h.status?.allocated?.sessions ?? 0),
    hostStateText(h),
    readyText(h.status?.conditions),
  ]);
  return table(
    ["HOST", "HYPERVISOR", "CPU MODEL", "CPU", "MEMORY", "DESKTOPS", "SESSIONS", "STATE", "READY"],
    rows,
  );
}

/** A memory quantity rounded for a table: 12805920Ki reads 12.2Gi; whole units stay as they are. */
export function readableBytes(quantity: string | number | undefined): string {
  if (quantity === undefined) return "?";
  let bytes: number;
  try {
    bytes = parseBytes(quantity);
  } catch {
    return String(quantity);
  }
  return formatBytesRounded(bytes);
}

/** Cordon and drain as one word: a requested drain shows its phase (Pending: waiting for budget). */
function hostStateText(h: HostNode): string {
  if (h.spec.drain) {
    const phase = h.status?.drain?.phase;
    if (phase === "Pending") return "DrainPending";
    if (phase === "ForcingLogoff") return "ForcingLogoff";
    return phase ?? "DrainRequested"; // Draining, Drained
  }
  return h.spec.unschedulable ? "Cordoned" : "Schedulable";
}

function readyText(conditions: readonly Condition[] | undefined): string {
  const ready = conditions?.find((c) => c.type === "Ready");
  if (!ready) return "Unknown";
  return isConditionTrue(conditions, "Ready") ? "True" : `${ready.status} (${ready.reason})`;
}

function table(header: string[], rows: string[][]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}
