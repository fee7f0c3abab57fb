// `griddesk drain HOST… [--selector] [--grace|--deadline] [--message] [--force|--no-force]
// [--wait] [--exec CMD] [--abort]`: requests (or withdraws) drains. The controller starts each
// drain when every pool's maintenance budget allows, so draining a rack by selector proceeds in
// waves; --wait follows them live, and --exec runs the maintenance and returns each host.
import { Command, InvalidArgumentError } from "commander";
import type { DrainRequest } from "../api/types.generated.js";
import { parseDuration } from "../controllers/session/timeouts.js";
import { waitForDrains } from "./drain-wait.js";
import { hostClient, targetHosts } from "./hosts.js";
import { seconds, secondsOption } from "./parse.js";

export const DEFAULT_MESSAGE = "This host is going into maintenance. Please save your work and log off.";

export interface DrainFlags {
  message?: string;
  grace?: string;
  deadline?: string;
  force?: boolean;
  reason?: string;
}

/** spec.drain as a merge patch: exactly one of gracePeriod and deadline, the other removed. */
export function drainPatch(f: DrainFlags): { [K in keyof DrainRequest]: DrainRequest[K] | null } {
  if (f.grace && f.deadline) throw new Error("pass either --grace or --deadline, not both");
  return {
    message: f.message ?? DEFAULT_MESSAGE,
    gracePeriod: f.deadline ? null : (f.grace ?? "1h"),
    deadline: f.deadline ?? null,
    forceLogoff: f.force !== false,
    reason: f.reason ?? null,
  };
}

function duration(value: string): string {
  if (parseDuration(value) === undefined)
    throw new InvalidArgumentError(`expected a duration such as 30m, 2h or 1h30m, got "${value}"`);
  return value;
}

function rfc3339(value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t) || !/^\d{4}-\d\d-\d\dT/.test(value))
    throw new InvalidArgumentError(`expected an RFC 3339 time such as 2026-12-01T18:00:00Z, got "${value}"`);
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function drainCommand(): Command {
  return new Command("drain")
    .description(
      "drain hosts for maintenance: delete idle desktops, warn users, log them off at the deadline; " +
        "pools' maintenance budgets decide when each drain starts",
    )
    .argument("[hosts...]", "HostNode names")
    .option("-l, --selector <selector>", "also every HostNode matching this label selector")
    .option("--grace <duration>", "how long users have, from when the drain starts (default 1h)", duration)
    .option("--deadline <time>", "log users off at this RFC 3339 time instead", rfc3339)
    .option("--message <text>", "the notice users see", DEFAULT_MESSAGE)
    .option("--reason <reason>", "a short reason recorded in Events, e.g. KernelUpgrade")
    .option("--force", "log remaining users off at the deadline (the default)")
    .option("--no-force", "at the deadline, keep waiting for users to log off")
    .option("--wait", "follow the drains live until every host is drained")
    .option("--exec <command>", "as each host drains, run this (GRIDDESK_HOST is set), then return the host")
    .option("--timeout <seconds>", "with --wait: give up after this long", seconds)
    .addOption(secondsOption("--interval <seconds>", "with --wait: refresh this often", 1))
    .option("--abort", "withdraw the drain requests instead (users are told it is called off)")
    .option("--kubeconfig <path>", "kubeconfig file")
    .action(async (names: string[], o) => {
      const client = hostClient(o.kubeconfig);
      const hosts = await targetHosts(client, names, o);
      const spec = o.abort ? { drain: null } : { drain: drainPatch(o) };
      for (const host of hosts) {
        await client.mergePatch(host.metadata, { spec });
        console.log(`hostnode/${host.metadata.name} ${o.abort ? "drain withdrawn" : "drain requested"}`);
      }
      if (o.abort || (!o.wait && !o.exec)) return;
      const code = await waitForDrains(
        client,
        hosts.map((h) => h.metadata.name),
        { exec: o.exec, intervalMs: o.interval, timeoutMs: o.timeout, out: process.stdout },
      );
      process.exitCode = code;
    });
}
