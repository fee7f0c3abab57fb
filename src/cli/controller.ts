// `griddesk controller`: pools, sessions, placement and host health for the whole cluster.
import { hostname } from "node:os";
import { Command, Option } from "commander";
import { startController } from "../controllers/manager.js";
import { createLogger } from "../runtime/index.js";
import { loadKubeConfig, parseBindAddress } from "./kubeconfig.js";
import { positiveInt, secondsOption } from "./parse.js";

export function controllerCommand(): Command {
  return new Command("controller")
    .description("run the griddesk controller (pools, sessions, placement, host health); leader-elected")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--leader-elect", "elect a leader among replicas with a Lease", false)
    .option(
      "--identity <id>",
      "this replica's name in the leader Lease",
      process.env.POD_NAME ?? `${hostname()}_${process.pid}`,
    )
    .option(
      "--system-namespace <ns>",
      "namespace of heartbeat and leader Leases",
      process.env.POD_NAMESPACE ?? "griddesk-system",
    )
    .option(
      "--metrics-bind-address <addr>",
      "serve /metrics here (and the probes, unless --health-probe-bind-address)",
      ":8080",
    )
    .option("--health-probe-bind-address <addr>", "serve /healthz and /readyz on a separate address")
    .addOption(
      secondsOption("--host-grace-period <seconds>", "heartbeat age after which a host goes NotReady", 40),
    )
    .option("--no-node-mirror", "do not watch Nodes to mirror their cordon onto HostNodes (spec.nodeName)")
    .option("--pool-workers <n>", "concurrent pool reconciles", positiveInt, 2)
    .option("--session-workers <n>", "concurrent session reconciles", positiveInt, 32)
    .option("--host-workers <n>", "concurrent host reconciles", positiveInt, 4)
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["trace", "debug", "info", "warn", "error", "fatal"])
        .default("info"),
    )
    .action(async (o) => {
      const logger = createLogger({ level: o.logLevel, name: "griddesk-controller" });
      const manager = await startController({
        kubeConfig: loadKubeConfig(o.kubeconfig),
        logger,
        leaderElection: o.leaderElect,
        identity: o.identity,
        systemNamespace: o.systemNamespace,
        health: o.healthProbeBindAddress
          ? parseBindAddress("--health-probe-bind-address", o.healthProbeBindAddress)
          : parseBindAddress("--metrics-bind-address", o.metricsBindAddress),
        metrics: o.healthProbeBindAddress
          ? parseBindAddress("--metrics-bind-address", o.metricsBindAddress)
          : undefined,
        hostGracePeriodMs: o.hostGracePeriod,
        nodeMirror: o.nodeMirror,
        workers: { pools: o.poolWorkers, sessions: o.sessionWorkers, hosts: o.hostWorkers },
      });
      manager.handleSignals();
      logger.info({ port: manager.healthPort }, "serving /healthz, /readyz and /metrics");
    });
}
