// The KubeVirt adapter's registry entry: one adapter per HostNode (one per KubeVirt Node),
// talking to the cluster's API server with the agent's credentials.
import type { AdapterFactory } from "../registry.js";
import { systemClock, type Clock } from "../clock.js";
import type { RestClient, WatchClient } from "../../runtime/index.js";
import { KubevirtAdapter } from "./adapter.js";
import { parseKubevirtConfig } from "./config.js";

export { KubevirtAdapter, KUBEVIRT_ADAPTER_VERSION } from "./adapter.js";
export { parseKubevirtConfig, type KubevirtHostConfig } from "./config.js";
export { statusOf, vmiFor, vmiName, VMI_LABELS, OWNER_ANNOTATION } from "./vmi.js";

export interface KubevirtFactoryOptions {
  readonly rest: RestClient;
  readonly watcher: WatchClient;
  readonly clock?: Clock;
  /** The admin's containerDisk prefixes (--allow-container-disk-prefix); none allows nothing. */
  readonly containerDiskPrefixes: readonly string[];
}

export function kubevirtAdapterFactory(options: KubevirtFactoryOptions): AdapterFactory {
  const clock = options.clock ?? systemClock;
  return ({ hostName, settings }) =>
    new KubevirtAdapter({
      hostName,
      config: parseKubevirtConfig(settings),
      rest: options.rest,
      watcher: options.watcher,
      clock,
      containerDiskPrefixes: options.containerDiskPrefixes,
    });
}
