// client-node's Watch, configured for long-lived informer watches.
import { Watch, type KubeConfig } from "@kubernetes/client-node";

/** The one method of client-node's Watch the informer uses; a test may wrap the real one. */
export type WatchClient = Pick<Watch, "watch">;

/**
 * A Watch whose own inactivity abort is lifted to `inactivityMs`. client-node 2.0.1 aborts a
 * watch after 30 s without data, in a private field it offers no option for; the API server
 * sends bookmarks only about once a minute, so every idle watch would be torn down and
 * reopened twice a minute. The informer runs its own, configurable stall timer instead. If a
 * later client-node drops the field, the only effect is the old 30 s reconnect.
 */
export function newWatch(kubeConfig: KubeConfig, inactivityMs = 3_600_000): WatchClient {
  const watch = new Watch(kubeConfig);
  const fields = watch as unknown as { requestTimeoutMs?: number };
  if (typeof fields.requestTimeoutMs === "number") fields.requestTimeoutMs = inactivityMs;
  return watch;
}
