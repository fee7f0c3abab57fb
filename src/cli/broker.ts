// `griddesk broker`: the users' portal and console relay. Stateless: run as many replicas as
// needed, all with the same signing key. `griddesk hash-password`: a static user's password hash.
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command, Option } from "commander";
import { startBroker } from "../broker/broker.js";
import { DEFAULT_SIGNIN_TTL_MS } from "../broker/signin.js";
import { hashPassword, StaticUsers } from "../broker/static-users.js";
import { DEFAULT_TICKET_TTL_MS, MIN_SIGNING_KEY_BYTES } from "../broker/tickets.js";
import { createLogger } from "../runtime/index.js";
import { loadKubeConfig, parseBindAddress } from "./kubeconfig.js";
import { secondsOption } from "./parse.js";

export function brokerCommand(): Command {
  return new Command("broker")
    .description("serve the users' portal: sign-in, pools, sessions, and consoles relayed to their desktops")
    .option("--kubeconfig <path>", "kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)")
    .option("--bind-address <addr>", "serve HTTPS (the portal and the console WebSocket) here", ":8443")
    .option("--tls-cert-file <path>", "PEM certificate chain for HTTPS")
    .option("--tls-key-file <path>", "PEM private key for HTTPS")
    .option("--plain-http", "serve plain HTTP: only behind a proxy that terminates TLS", false)
    .option(
      "--signing-key-file <path>",
      `file with the key that signs sign-in cookies and console tickets (at least ${MIN_SIGNING_KEY_BYTES} bytes; the same on every replica)`,
    )
    .option(
      "--static-users-file <path>",
      "YAML file of static users (labs): users: [{name, passwordHash, groups}]",
    )
    .option("--oidc-issuer <url>", "sign users in with this OpenID Connect provider (its issuer URL)")
    .option("--oidc-client-id <id>", "the broker's client id at the provider", "griddesk")
    .option("--oidc-client-secret-file <path>", "file with the broker's client secret at the provider")
    .option("--oidc-username-claim <claim>", "the ID token claim that names the user", "preferred_username")
    .option("--oidc-groups-claim <claim>", "the ID token claim that lists the user's groups", "groups")
    .option("--oidc-scopes <list>", "scopes to ask for besides openid, comma-separated", "profile,groups")
    .option(
      "--external-url <url>",
      "the broker's address as browsers reach it, e.g. https://desktops.example.com (OIDC's redirect URI is this + /auth/callback)",
    )
    .addOption(
      secondsOption(
        "--ticket-ttl <seconds>",
        "how long a console ticket may wait to be used",
        DEFAULT_TICKET_TTL_MS / 1000,
      ),
    )
    .addOption(
      secondsOption("--signin-ttl <seconds>", "how long a sign-in lasts", DEFAULT_SIGNIN_TTL_MS / 1000),
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
      if (!o.signingKeyFile)
        throw new Error(
          "--signing-key-file is required: every replica signs and checks cookies and tickets with it",
        );
      const tls = o.tlsCertFile || o.tlsKeyFile;
      if (tls && !(o.tlsCertFile && o.tlsKeyFile))
        throw new Error("--tls-cert-file and --tls-key-file go together");
      if (!tls && !o.plainHttp)
        throw new Error(
          "give --tls-cert-file and --tls-key-file, or --plain-http behind a proxy that terminates TLS",
        );
      if (o.oidcIssuer && !(o.oidcClientSecretFile && o.externalUrl))
        throw new Error("--oidc-issuer needs --oidc-client-secret-file and --external-url");
      if (!o.oidcIssuer && !o.staticUsersFile)
        throw new Error("nobody could sign in: give --oidc-issuer, or --static-users-file for a lab");
      const logger = createLogger({ level: o.logLevel, name: "griddesk-broker" }).child({
        replica: o.identity,
      });
      await startBroker({
        kubeConfig: loadKubeConfig(o.kubeconfig),
        logger,
        listen: parseBindAddress("--bind-address", o.bindAddress),
        ...(tls ? { tls: { certFile: o.tlsCertFile, keyFile: o.tlsKeyFile } } : {}),
        health: parseBindAddress("--health-probe-bind-address", o.healthProbeBindAddress),
        signingKey: readFileSync(o.signingKeyFile),
        ticketTtlMs: o.ticketTtl,
        signInTtlMs: o.signinTtl,
        secretNamespace: o.consoleSecretNamespace,
        ...(o.staticUsersFile ? { staticUsers: StaticUsers.load(o.staticUsersFile) } : {}),
        ...(o.oidcIssuer
          ? {
              oidc: {
                issuer: o.oidcIssuer,
                clientId: o.oidcClientId,
                clientSecret: readFileSync(o.oidcClientSecretFile, "utf8").trim(),
                externalUrl: o.externalUrl,
                usernameClaim: o.oidcUsernameClaim,
                groupsClaim: o.oidcGroupsClaim,
                scopes: String(o.oidcScopes)
                  .split(",")
                  .map((s) => s.trim())
                  .filter(Boolean),
              },
            }
          : {}),
      }).then((broker) => {
        for (const signal of ["SIGTERM", "SIGINT"] as const)
          process.once(signal, () => void broker.close().then(() => process.exit(0)));
      });
    });
}

export function hashPasswordCommand(): Command {
  return new Command("hash-password")
    .description("print the hash of the password read from standard input, for a static users file")
    .action(async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      const password = Buffer.concat(chunks)
        .toString("utf8")
        .replace(/\r?\n$/, "");
      if (!password) throw new Error("no password on standard input");
      process.stdout.write(`${await hashPassword(password)}\n`);
    });
}
