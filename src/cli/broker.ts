// `griddesk broker`: the console relay (and, to come, the users' portal). Stateless: run as many
// replicas as needed, all with the same ticket key.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command, Option } from "commander";
import { startBroker } from "../broker/broker.js";
import { DEFAULT_TICKET_TTL_MS, MIN_TICKET_KEY_BYTES } from "../broker/tickets.js";
import { createLogger } from "../runtime/index.js";
import { loadKubeConfig, parseBindAddress } from "./kubeconfig.js";
import { secondsOption } from "./parse.js";

export function brokerCommand(): Command {
  return new Command("broker")
    .description("serve users' consoles: checks one-time tickets and relays each to its desktop's VNC server")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--bind-address <addr>", "serve HTTPS (the console WebSocket) here", ":8443")
    .option("--tls-cert-file <path>", "PEM certificate chain for HTTPS")
    .option("--tls-key-file <path>", "PEM private key for HTTPS")
    .option("--plain-http", "serve plain HTTP: only behind a proxy that terminates TLS", false)
    .option(
      "--ticket-key-file <path>",
      `file with the key that signs console tickets (at least ${MIN_TICKET_KEY_BYTES} bytes; the same on every replica)`,
    )
    .addOption(
      secondsOption(
        "--ticket-ttl <seconds>",
        "how long a console ticket may wait to be used",
        DEFAULT_TICKET_TTL_MS / 1000,
      ),
    )
    .option(
      "--console-secret-namespace <ns>",
      "namespace of the desktops' console Secrets (the agents' --console-secret-namespace)",
      process.env.POD_NAMESPACE ?? "griddesk-system",
    )
    .option("--health-probe-bind-address <addr>", "serve /healthz, /readyz and /metrics here", ":8081")
    .option(
      "--identity <id>",
      "this replica's name in logs",
      process.env.POD_NAME ?? `${hostname()}_${process.pid}`,
    )
    .addOption(
      new Option("--log-level <level>", "log level")
        .choices(["trace", "debug", "info", "warn", "error", "fatal"])
        .default("info"),
    )
    .action(async (o) => {
      if (!o.ticketKeyFile)
        throw new Error("--ticket-key-file is required: every replica signs and checks tickets with it");
      const tls = o.tlsCertFile || o.tlsKeyFile;
      if (tls && !(o.tlsCertFile && o.tlsKeyFile))
        throw new Error("--tls-cert-file and --tls-key-file go together");
      if (!tls && !o.plainHttp)
        throw new Error(
          "give --tls-cert-file and --tls-key-file, or --plain-http behind a proxy that terminates TLS",
        );
      const logger = createLogger({ level: o.logLevel, name: "griddesk-broker" }).child({
        replica: o.identity,
      });
      const broker = await startBroker({
        kubeConfig: loadKubeConfig(o.kubeconfig),
        logger,
        listen: parseBindAddress("--bind-address", o.bindAddress),
        ...(tls ? { tls: { certFile: o.tlsCertFile, keyFile: o.tlsKeyFile } } : {}),
        health: parseBindAddress("--health-probe-bind-address", o.healthProbeBindAddress),
        ticketKey: readFileSync(o.ticketKeyFile),
        ticketTtlMs: o.ticketTtl,
        secretNamespace: o.consoleSecretNamespace,
      });
      for (const signal of ["SIGTERM", "SIGINT"] as const)
        process.once(signal, () => void broker.close().then(() => process.exit(0)));
    });
}
