// Desktops placed on a host this agent now serves but labelled for another agent (the host was
// served under another agent name before) are relabelled, so that this agent watches them
// rather than mistaking their VMs for orphans or leaving their finalizers stuck.
import { Labels, type Desktop } from "../api/index.js";
import type { Logger, ObjectClient } from "../runtime/index.js";

export async function adoptDesktops(
  client: ObjectClient<Desktop>,
  host: string,
  agent: string,
  log: Logger,
): Promise<number> {
  const strays = await client.list({
    fieldSelector: `spec.hostRef=${host}`,
    labelSelector: `${Labels.Agent}!=${agent}`,
  });
  for (const desktop of strays) {
    const { namespace, name, labels } = desktop.metadata;
    log.info({ host, desktop: `${namespace}/${name}`, from: labels?.[Labels.Agent] }, "adopting desktop");
    await client.mergePatch(
      { namespace, name: name as string },
      { metadata: { labels: { [Labels.Agent]: agent, [Labels.Host]: host } } },
    );
  }
  return strays.length;
}
