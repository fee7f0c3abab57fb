#!/usr/bin/env node
// The `griddesk` command; installed also as `kubectl-griddesk`, so `kubectl griddesk …` works.
import { Command } from "commander";
import { agentCommand } from "./agent.js";
import { brokerCommand, hashPasswordCommand } from "./broker.js";
import { controllerCommand } from "./controller.js";
import { cordonCommand, uncordonCommand } from "./cordon.js";
import { drainCommand } from "./drain.js";
import { statusCommand } from "./status.js";

const program = new Command("griddesk")
  .description("transient virtual desktops on any hypervisor, run the Kubernetes way")
  .version("0.1.0")
  .addCommand(controllerCommand())
  .addCommand(agentCommand())
  .addCommand(brokerCommand())
  .addCommand(hashPasswordCommand())
  .addCommand(statusCommand())
  .addCommand(cordonCommand())
  .addCommand(uncordonCommand())
  .addCommand(drainCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`griddesk: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
