// Shared set-up for the agent's integration tests: an in-process simulated agent with fast
// latencies against the real API server, Desktops as the controller would create them, and
// clean-up that strips finalizers the stopped agent can no longer remove.
import { randomBytes } from "node:crypto";
import { runAgent, simulatedAgentSetup, type AgentHandle } from "../../src/agent/index.js";
import { Finalizers, Labels, type Desktop, type HostNode } from "../../src/api/index.js";
import { Resources } from "../../src/controllers/shared/resources.js";
import {
  createLogger,
  ObjectClient,
  RestClient,
  RuntimeMetrics,
  type Lease,
} from "../../src/runtime/index.js";
import { DEFAULT_FETCH_LIMITS, type SourcePolicy } from "../../src/volumes/index.js";
import { kubeConfig, kubectl } from "./support/cluster.js";
import { IMAGE_ROOT } from "./support/griddesk.js";

export const SHA = "5e".repeat(32);

/** The admin's source policy these agents run under: the root the tests' images are named in. */
export const SOURCES: SourcePolicy = {
  localRoots: [IMAGE_ROOT],
  urlPrefixes: [],
  limits: DEFAULT_FETCH_LIMITS,
};

const rest = new RestClient(kubeConfig());
export const clients = {
  hosts: new ObjectClient<HostNode>(rest, Resources.HostNode),
  desktops: new ObjectClient<Desktop>(rest, Resources.Desktop),
  leases: new ObjectClient<Lease>(rest, Resources.Lease),
};

export const suffix = (): string => randomBytes(3).toString("hex");

export interface SimAgentOptions {
  name: string;
  hosts: string[];
  systemNamespace: string;
  stateDir?: string;
  hostLabels?: Record<string, string>;
  /** How long a VM takes to come up (default 300 ms). */
  provisionMs?: number;
}

/** A simulated agent: VMs take ~300 ms, Leases renew every second, orphans are sought every 2 s. */
export async function startSimAgent(o: SimAgentOptions): Promise<AgentHandle> {
  const log = createLogger({ level: (process.env.AGENT_TEST_LOG as "info") ?? "silent" });
  const setup = await simulatedAgentSetup({
    hosts: o.hosts,
    seed: 1,
    provisionMs: o.provisionMs ?? 300,
    imagePullMs: 300,
    stateDir: o.stateDir,
    sources: SOURCES,
    log,
  });
  return runAgent({
    kubeConfig: kubeConfig(),
    name: o.name,
    adapter: "simulated",
    registry: setup.registry,
    hosts: setup.hosts,
    hostLabels: o.hostLabels,
    systemNamespace: o.systemNamespace,
    leaseRenewIntervalMs: 1000,
    orphanCollectionIntervalMs: 2000,
    hostStatusIntervalMs: 5000,
    provisioningRecheckMs: 1000,
    desktopResyncMs: 2000,
    logger: log,
    runtimeMetrics: new RuntimeMetrics({ processMetrics: false }),
  });
}

/** A Desktop as the pool controller creates it: placed, labelled for the agent, with the finalizer. */
export function desktopManifest(namespace: string, name: string, host: string, agent: string): Desktop {
  return {
    apiVersion: "griddesk.io/v1alpha1",
    kind: "Desktop",
    metadata: {
      name,
      namespace,
      labels: { [Labels.Agent]: agent, [Labels.Host]: host, [Labels.Pool]: "agent-test" },
      finalizers: [Finalizers.DesktopCleanup],
    },
    spec: {
      poolRef: "agent-test",
      hostRef: host,
      hypervisorType: "simulated",
      image: { source: "file:///srv/images/test.qcow2", sha256: SHA },
      resources: { cpu: "1", memory: "2Gi", disk: "10Gi" },
    },
  };
}

export async function getDesktop(namespace: string, name: string): Promise<Desktop | undefined> {
  return clients.desktops.tryGet({ namespace, name });
}

/** Events on an object, by reason. */
export async function eventReasons(namespace: string, name: string): Promise<string[]> {
  const r = await kubectl([
    "get",
    "events",
    "-n",
    namespace,
    "--field-selector",
    `involvedObject.name=${name}`,
    "-o",
    "jsonpath={.items[*].reason}",
  ]);
  return r.stdout.split(/\s+/).filter(Boolean);
}

/** Removes what the tests made: finalizers first (the agent is stopped), then the objects. */
export async function cleanUp(namespace: string, hosts: string[], systemNamespace: string): Promise<void> {
  const desktops = await clients.desktops.list({ namespace }).catch(() => []);
  for (const d of desktops) {
    await clients.desktops
      .mergePatch({ namespace, name: d.metadata.name as string }, { metadata: { finalizers: null } })
      .catch(() => undefined);
  }
  for (const host of hosts) {
    await clients.hosts.delete({ name: host }).catch(() => undefined);
    await clients.leases.delete({ namespace: systemNamespace, name: `host-${host}` }).catch(() => undefined);
  }
}
