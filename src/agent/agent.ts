// runAgent: the per-node agent, in the kubelet pattern. One process serves a set of HostNodes
// with one adapter type, cheaply enough for hundreds of (simulated) hosts: one Desktop informer
// and one HostNode informer (both selected by the agent label), one heartbeat loop, one orphan
// loop, and two controllers whose work queues bound and deduplicate every write.
import type { Desktop, DesktopProfile, HostNode } from "../api/index.js";
import { FieldManagers, Labels } from "../api/index.js";
import { EventRecorder } from "../controllers/shared/events.js";
import { Resources } from "../controllers/shared/resources.js";
import type { HypervisorAdapter } from "../hypervisors/index.js";
import {
  createLogger,
  HealthServer,
  Manager,
  RuntimeMetrics,
  systemClock,
  type Controller,
  type KubeObject,
  type Lease,
} from "../runtime/index.js";
import { adoptDesktops } from "./adoption.js";
import { DesktopReconciler } from "./desktop-reconciler.js";
import { Heartbeat } from "./heartbeat.js";
import { HostStatusReconciler } from "./host-reconciler.js";
import { HostTable } from "./hosts.js";
import { every, type Loop } from "./loop.js";
import { agentMetrics } from "./metrics.js";
import { ensureNamespace } from "./namespace.js";
import { resolveAgentOptions, type AgentOptions } from "./options.js";
import { OrphanCollector } from "./orphan-collector.js";
import type { SecretObject } from "../profiles/store-config.js";
import type { ConsoleSecretObject } from "../console/secret.js";
import { ConsoleSecrets } from "./console-secrets.js";
import { ProfileDisks } from "./profile-disks.js";
import { registerHost } from "./registration.js";

export interface AgentHandle {
  readonly name: string;
  /** The adapter of a host while this agent serves it. */
  adapter(host: string): HypervisorAdapter | undefined;
  /** Hosts served now (their Lease is held and they are registered). */
  servedHosts(): string[];
  readonly healthPort?: number;
  readonly metricsPort?: number;
  /** Stops work and closes adapters; Leases and VMs are left as they are. Idempotent. */
  stop(): Promise<void>;
}

const BY_UID = "uid";
const BY_HOST = "host";
/** How long a simulated host pretends a profile sync takes (real hosts take what the store takes). */
const SIMULATED_PROFILE_SYNC_MS = 300;

/** Starts the agent; resolves once its first heartbeat round has registered the hosts it can hold. */
export async function runAgent(options: AgentOptions): Promise<AgentHandle> {
  const o = resolveAgentOptions(options);
  const clock = o.clock ?? systemClock;
  const log = (o.logger ?? createLogger({ name: "griddesk-agent" })).child({ agent: o.name });
  const runtimeMetrics = o.runtimeMetrics ?? new RuntimeMetrics();
  const manager = new Manager({
    kubeConfig: o.kubeConfig,
    logger: log,
    metrics: runtimeMetrics,
    clock,
    health: o.health,
    fieldManager: FieldManagers.Agent,
    shutdownTimeoutMs: o.shutdownTimeoutMs,
  });
  const nodeClient = manager.client<HostNode>(Resources.HostNode);
  const desktopClient = manager.client<Desktop>(Resources.Desktop);
  const events = new EventRecorder(manager.rest, FieldManagers.Agent, clock, log);
  const selector = `${Labels.Agent}=${o.name}`;
  const nodes = manager.informer<HostNode>({ resource: Resources.HostNode, labelSelector: selector });
  const desktops = manager.informer<Desktop>({
    resource: Resources.Desktop,
    labelSelector: selector,
    indexers: {
      [BY_UID]: (d) => (d.metadata.uid ? [d.metadata.uid] : []),
      [BY_HOST]: (d) => (d.spec.hostRef ? [d.spec.hostRef] : []),
    },
  });

  // The controllers and the host table refer to each other through these callbacks.
  const queues: { desktops?: Controller; hosts?: Controller } = {};
  const registration = { agent: o.name, type: o.adapter, labels: o.hostLabels };
  const hosts = new HostTable({
    hosts: o.hosts,
    type: o.adapter,
    registry: o.registry,
    events,
    log,
    register: async (host) => {
      const node = await registerHost(nodeClient, host, registration);
      await adoptDesktops(desktopClient, host.name, o.name, log);
      return node;
    },
    onChange: (host, event) => {
      if (event.kind === "vm")
        queues.desktops?.enqueue({ namespace: event.id.namespace, name: event.id.name });
      else queues.hosts?.enqueue({ name: host });
    },
    onServing: (host) => {
      queues.hosts?.enqueue({ name: host });
      for (const d of desktops.byIndex(BY_HOST, host)) queues.desktops?.enqueue(nameOf(d));
    },
  });
  const metrics = agentMetrics(runtimeMetrics, () => hosts.counts());

  const desktopController = manager.addController({
    name: "agent-desktop",
    workers: o.workers,
    reconciler: new DesktopReconciler({
      desktops,
      client: desktopClient,
      hosts,
      events,
      clock,
      provisioningRecheckMs: o.provisioningRecheckMs,
      resyncMs: o.desktopResyncMs,
      hostWaitMs: o.leaseRenewIntervalMs,
      hostTouched: (host) => queues.hosts?.enqueue({ name: host }),
      consoles: new ConsoleSecrets(
        manager.client<ConsoleSecretObject>(Resources.Secret),
        o.consoleSecretNamespace ?? o.systemNamespace,
      ),
      profiles: new ProfileDisks({
        secrets: manager.client<SecretObject>(Resources.Secret),
        profiles: manager.client<DesktopProfile>(Resources.DesktopProfile),
        events,
        clock,
        simulatedSyncMs: SIMULATED_PROFILE_SYNC_MS,
      }),
    }),
  });
  desktopController.watch(desktops);
  queues.desktops = desktopController;
  const hostController = manager.addController({
    name: "agent-host-status",
    workers: Math.min(o.workers, 4),
    reconciler: new HostStatusReconciler({
      agent: o.name,
      nodes,
      client: nodeClient,
      hosts,
      resyncMs: o.hostStatusIntervalMs,
    }),
  });
  hostController.watch(nodes);
  queues.hosts = hostController;

  await ensureNamespace(manager.client<KubeObject>(Resources.Namespace), o.systemNamespace);
  const metricsServer = o.metrics
    ? new HealthServer({ ...o.metrics, registry: runtimeMetrics.registry, logger: log })
    : undefined;
  await manager.start();
  const metricsPort = await metricsServer?.listen();
  const heartbeat = new Heartbeat({
    leases: manager.client<Lease>(Resources.Lease),
    namespace: o.systemNamespace,
    identity: o.name,
    durationSeconds: o.leaseDurationSeconds,
    intervalMs: o.leaseRenewIntervalMs,
    clock,
    log,
    metrics,
    hosts: () => hosts.names(),
    held: (host) => hosts.ensureServing(host),
    lost: (host) => hosts.release(host),
  });
  await heartbeat.start();
  // Hosts found later join the table; the next heartbeat round takes their Leases and serves them.
  await o.hostSource?.start((host) => {
    if (hosts.add(host)) log.info({ host: host.name }, "found a new host");
  });
  log.info({ hosts: o.hosts.length, served: hosts.serving().length }, "agent started");

  // Orphans are judged only against a synced cache, so that no Desktop is missed.
  const collector = new OrphanCollector({
    hosts,
    lookup: (uid) => desktops.byIndex(BY_UID, uid)[0]?.spec,
    client: desktopClient,
    events,
    log,
    metrics,
  });
  let stopped = false;
  let orphanLoop: Loop | undefined;
  const synced = manager.informers.waitForSync().then((ok) => {
    if (ok && !stopped) orphanLoop = every(clock, o.orphanCollectionIntervalMs, () => collector.collectAll());
  });

  let stopping: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    stopped = true;
    await o.hostSource?.stop();
    await heartbeat.stop();
    await orphanLoop?.stop();
    await manager.stop();
    await synced;
    await hosts.closeAll();
    await metricsServer?.close();
    log.info("agent stopped");
  };
  return {
    name: o.name,
    adapter: (host) => hosts.get(host)?.adapter,
    servedHosts: () => hosts.serving().map((h) => h.name),
    healthPort: manager.healthPort,
    metricsPort,
    stop: () => (stopping ??= shutdown()),
  };
}

function nameOf(obj: { metadata: { namespace?: string; name?: string } }): {
  namespace?: string;
  name: string;
} {
  return { namespace: obj.metadata.namespace, name: obj.metadata.name as string };
}
