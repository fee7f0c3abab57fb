// `griddesk agent`: the per-node hypervisor adapter host. It registers and heartbeats its
// HostNodes and makes the Desktops bound to them real. `--adapter simulated` serves any number
// of simulated hosts from one process (for scale tests and demos).
import { hostname } from "node:os";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  kubevirtAgentSetup,
  libvirtAgentSetup,
  runAgent,
  simulatedAgentSetup,
  type AgentHost,
  type HostSource,
} from "../agent/index.js";
import { DEFAULT_NODE_SELECTOR } from "../agent/kubevirt/setup.js";
import { AdapterRegistry, HYPERVISOR_TYPES, type HypervisorType } from "../hypervisors/index.js";
import { DOMAIN_TYPES, type DomainType } from "../hypervisors/libvirt/index.js";
import { SIMULATED_PROFILES, type SimulatedProfile } from "../hypervisors/simulated/index.js";
import { createLogger, type Logger } from "../runtime/index.js";
import { loadKubeConfig, parseBindAddress } from "./kubeconfig.js";
import { positiveInt, secondsOption } from "./parse.js";
import { parseBytes } from "../scheduler/quantity.js";
import {
  checkContainerDiskPrefixes,
  checkPolicy,
  CONTAINER_DISK_FLAG,
  DEFAULT_FETCH_LIMITS,
  POLICY_FLAGS,
  type SourcePolicy,
} from "../volumes/index.js";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** "a,b, c" → ["a", "b", "c"]. */
export function nameList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** "zone=a,site=berlin" → {zone: "a", site: "berlin"}. */
export function labelList(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const labels = { ...previous };
  for (const pair of value.split(",").filter(Boolean)) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new InvalidArgumentError(`expected key=value pairs, got "${pair}"`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return labels;
}

function number(min: number, max = Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number in [${min}, ${max}], got "${value}"`);
    return n;
  };
}

/** "20Gi" → bytes. */
function quantityBytes(value: string): number {
  try {
    return parseBytes(value);
  } catch {
    throw new InvalidArgumentError(`expected a byte quantity like 20Gi, got "${value}"`);
  }
}

/** ":8081" → that address; "0" → no server. */
function bindAddress(flag: string, value: string): { host: string; port: number } | undefined {
  if (value === "0") return undefined;
  const { host, port } = parseBindAddress(flag, value);
  return { host: host ?? "0.0.0.0", port };
}

// commander gives options as a loosely typed record.
type Flags = Record<string, unknown> & { adapter: HypervisorType; hosts?: string[]; hostName?: string[] };

/** The admin's source policy from the flags; refused at start when a root or prefix is malformed. */
function sourcePolicy(o: Flags): SourcePolicy {
  const policy: SourcePolicy = {
    localRoots: (o.allowSourceRoot as string[] | undefined) ?? [],
    urlPrefixes: (o.allowSourceUrlPrefix as string[] | undefined) ?? [],
    limits: {
      maxBytes: o.fetchMaxBytes as number,
      stallTimeoutMs: o.fetchStallTimeout as number,
      deadlineMs: o.fetchDeadline as number,
    },
  };
  checkPolicy(policy);
  return policy;
}

async function adapters(
  o: Flags,
  log: Logger,
): Promise<{ registry: AdapterRegistry; hosts: AgentHost[]; hostSource?: HostSource }> {
  const names = [...(o.hosts ?? []), ...(o.hostName ?? [])];
  if (o.adapter === "kubevirt") {
    // KubeVirt nodes pull the containerDisk themselves: no source is opened by this agent, and
    // the admin's prefixes say which containerDisks its VMIs may name.
    const containerDiskPrefixes = (o.allowContainerDiskPrefix as string[] | undefined) ?? [];
    checkContainerDiskPrefixes(containerDiskPrefixes);
    if (containerDiskPrefixes.length === 0)
      log.warn(
        `no containerDisk is allowed on this agent's hosts: every pool will be refused until ${CONTAINER_DISK_FLAG} names some`,
      );
    const setup = await kubevirtAgentSetup({
      kubeConfig: loadKubeConfig(o.kubeconfig as string | undefined),
      namespace: o.vmiNamespace as string,
      nodeSelector: o.nodeSelector as string,
      containerDiskPrefixes,
    });
    if (names.length === 0) return setup; // every selected Node, now and as they come
    const wanted = new Set(names);
    return { registry: setup.registry, hosts: setup.hosts.filter((h) => wanted.has(h.name)) };
  }
  const sources = sourcePolicy(o);
  if (sources.localRoots.length + sources.urlPrefixes.length === 0)
    log.warn(
      `no image source is allowed on this agent's hosts: every pool will be refused until ${POLICY_FLAGS} name some`,
    );
  const storage = o.storagePath === undefined ? {} : { storagePath: o.storagePath };
  if (o.adapter === "simulated") {
    const setup = await simulatedAgentSetup({
      hosts: names,
      count: o.simulatedHosts as number | undefined,
      prefix: o.hostPrefix as string,
      profile: o.simulatedProfile as SimulatedProfile | undefined,
      seed: o.seed as number | undefined,
      provisionMs: o.simulatedProvisionMs as number | undefined,
      imagePullMs: o.simulatedImagePullMs as number | undefined,
      failureRate: o.simulatedFailureRate as number | undefined,
      stateDir: o.stateDir as string | undefined,
      sources,
      log,
    });
    return {
      registry: setup.registry,
      hosts: setup.hosts.map((h) => ({ ...h, overrides: { ...h.overrides, ...storage } })),
    };
  }
  if (names.length === 0) throw new Error("--hosts (or --host-name) is required");
  if (o.adapter === "libvirt") {
    return libvirtAgentSetup({
      hosts: names,
      uri: o.libvirtUri as string | undefined,
      storagePath: o.storagePath as string | undefined,
      vncListen: o.vncListen as string | undefined,
      endpointHost: o.endpointHost as string | undefined,
      imageCacheMinFreeBytes: o.imageCacheMinFree as number | undefined,
      domainType: o.domainType as DomainType | undefined,
      sources,
    });
  }
  // Real adapters register here as they are built; until then runAgent refuses the type.
  return { registry: new AdapterRegistry(), hosts: names.map((name) => ({ name, overrides: storage })) };
}

export function agentCommand(): Command {
  const defaultName = process.env.NODE_NAME ?? hostname();
  return new Command("agent")
    .description("serve HostNodes through a hypervisor adapter: register, heartbeat, run their desktops")
    .addOption(
      new Option("--adapter <type>", "hypervisor adapter").choices(HYPERVISOR_TYPES).makeOptionMandatory(),
    )
    .option("--name <name>", "agent name (label griddesk.io/agent, Lease holder)", defaultName)
    .option("--hosts <names>", "HostNodes to serve, comma-separated", nameList)
    .option("--host-name <name>", "a HostNode to serve (repeatable)", collect)
    .option("--host-labels <k=v,...>", "extra labels for the served HostNodes", labelList, {})
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option(
      "--system-namespace <ns>",
      "namespace of the heartbeat Leases",
      process.env.POD_NAMESPACE ?? "griddesk-system",
    )
    .option(
      "--console-secret-namespace <ns>",
      "namespace of the desktops' console-password Secrets, which the broker reads (default: --system-namespace)",
    )
    .option("--lease-duration <seconds>", "heartbeat Lease duration", positiveInt, 40)
    .addOption(secondsOption("--lease-renew-interval <seconds>", "how often Leases are renewed", 10))
    .addOption(
      secondsOption("--orphan-collection-interval <seconds>", "how often orphan VMs are looked for", 60),
    )
    .addOption(
      secondsOption("--host-status-interval <seconds>", "how often host facts and images are re-read", 60),
    )
    .option("--health-probe-bind-address <addr>", "serve /healthz, /readyz (and /metrics) here; 0: off", ":0")
    .option(
      "--metrics-bind-address <addr>",
      "serve /metrics on a separate address; 0: on the probe address",
      "0",
    )
    .option("--workers <n>", "concurrent Desktop reconciles", positiveInt, 4)
    .option("--storage-path <dir>", "where the adapter keeps images and overlays on the host")
    .option("--libvirt-uri <uri>", "libvirt: connection URI (default: the HostNode's, qemu:///system)")
    .option("--vnc-listen <addr>", "libvirt: address the desktops' VNC servers listen on (default 127.0.0.1)")
    .option("--endpoint-host <host>", "libvirt: host written into desktop endpoints (default: --vnc-listen)")
    .option(
      "--image-cache-min-free <bytes>",
      "libvirt: evict unused cached images while free disk is below this (e.g. 20Gi; default 2Gi)",
      quantityBytes,
    )
    .addOption(
      new Option(
        "--domain-type <type>",
        "libvirt: kvm (hardware virtualisation; needs a usable /dev/kvm) or qemu (TCG emulation; default)",
      ).choices(DOMAIN_TYPES),
    )
    .option(
      "--allow-source-root <dir>",
      "a directory on the host that image and boot sources may be in, after symlinks and '..' are resolved (repeatable; default: none)",
      collect,
    )
    .option(
      "--allow-source-url-prefix <url>",
      "an http(s) URL prefix that image and boot sources may start with (repeatable; default: none)",
      collect,
    )
    .option(
      "--fetch-max-bytes <bytes>",
      "refuse an image or boot source larger than this (e.g. 64Gi)",
      quantityBytes,
      DEFAULT_FETCH_LIMITS.maxBytes,
    )
    .addOption(
      secondsOption(
        "--fetch-stall-timeout <seconds>",
        "fail a fetch that receives nothing for this long",
        DEFAULT_FETCH_LIMITS.stallTimeoutMs / 1000,
      ),
    )
    .addOption(
      secondsOption(
        "--fetch-deadline <seconds>",
        "fail a fetch not finished this long after it started, however steadily bytes arrive",
        DEFAULT_FETCH_LIMITS.deadlineMs / 1000,
      ),
    )
    .option(
      "--allow-container-disk-prefix <prefix>",
      "kubevirt: allow containerDisks under this registry/repository prefix, e.g. registry.example.com/golden/ (repeatable; none: nothing allowed)",
      collect,
    )
    .option(
      "--vmi-namespace <namespace>",
      "kubevirt: the namespace the desktops' VirtualMachineInstances are created in",
      "griddesk-desktops",
    )
    .option(
      "--node-selector <selector>",
      "kubevirt: the Nodes to serve, one HostNode each (a label selector)",
      DEFAULT_NODE_SELECTOR,
    )
    .option("--simulated-hosts <n>", "simulated: serve n hosts named <prefix><n>", positiveInt)
    .option("--host-prefix <prefix>", "simulated: prefix of generated host names", "sim-")
    .addOption(
      new Option("--simulated-profile <profile>", "simulated: host size (default: cycled)").choices(
        Object.keys(SIMULATED_PROFILES),
      ),
    )
    .option("--seed <n>", "simulated: base seed (host i gets seed+i)", number(0, 2 ** 32 - 1))
    .option("--simulated-provision-ms <ms>", "simulated: mean VM provisioning time", number(0))
    .option("--simulated-image-pull-ms <ms>", "simulated: mean image pull time", number(0))
    .option("--simulated-failure-rate <p>", "simulated: probability a VM fails", number(0, 1))
    .option("--state-dir <dir>", "simulated: keep host state here, so a restarted agent keeps its VMs")
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["trace", "debug", "info", "warn", "error", "fatal"])
        .default("info"),
    )
    .action(async (o: Flags) => {
      const logger = createLogger({ level: o.logLevel as "info", name: "griddesk-agent" });
      const { registry, hosts, hostSource } = await adapters(o, logger);
      const agent = await runAgent({
        kubeConfig: loadKubeConfig(o.kubeconfig as string | undefined),
        name: o.name as string,
        adapter: o.adapter,
        registry,
        hosts,
        ...(hostSource ? { hostSource } : {}),
        hostLabels: o.hostLabels as Record<string, string>,
        systemNamespace: o.systemNamespace as string,
        ...(o.consoleSecretNamespace ? { consoleSecretNamespace: o.consoleSecretNamespace as string } : {}),
        leaseDurationSeconds: o.leaseDuration as number,
        leaseRenewIntervalMs: o.leaseRenewInterval as number,
        orphanCollectionIntervalMs: o.orphanCollectionInterval as number,
        hostStatusIntervalMs: o.hostStatusInterval as number,
        workers: o.workers as number,
        health: bindAddress("--health-probe-bind-address", o.healthProbeBindAddress as string),
        metrics: bindAddress("--metrics-bind-address", o.metricsBindAddress as string),
        logger,
      });
      logger.info({ healthPort: agent.healthPort, metricsPort: agent.metricsPort }, "agent running");
      const onSignal = (signal: NodeJS.Signals): void => {
        logger.info({ signal }, "shutting down (Leases and VMs are left as they are)");
        agent.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, "shutdown failed");
            process.exit(1);
          },
        );
      };
      process.once("SIGTERM", onSignal);
      process.once("SIGINT", onSignal);
    });
}
