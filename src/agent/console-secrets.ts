// The console passwords of an agent's desktops: a fresh one for each VM, written to the desktop's
// console Secret (in the broker's namespace) before the VM is made with it, so the broker never
// finds a VM whose password it cannot know. Written by server-side apply and removed by delete:
// the agent needs neither get nor list on Secrets there, so it cannot read what the broker keeps.
import {
  consoleSecret,
  consoleSecretName,
  newConsolePassword,
  type ConsoleSecretObject,
} from "../console/secret.js";
import type { DesktopIdentity } from "../hypervisors/index.js";
import type { ObjectClient } from "../runtime/index.js";

export class ConsoleSecrets {
  constructor(
    private readonly secrets: ObjectClient<ConsoleSecretObject>,
    readonly namespace: string,
  ) {}

  /** A new password for the desktop's next VM, already kept in the desktop's Secret. */
  async issue(desktop: DesktopIdentity, host: string): Promise<string> {
    const password = newConsolePassword();
    await this.secrets.apply(consoleSecret(this.namespace, desktop, host, password), { force: true });
    return password;
  }

  /** The desktop is gone: so is its console's password. */
  async remove(desktop: DesktopIdentity): Promise<void> {
    await this.secrets.delete({ namespace: this.namespace, name: consoleSecretName(desktop.uid) });
  }
}
