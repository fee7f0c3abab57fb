// Delivers the controller's notice for a desktop's user (Annotations.Notice, e.g. a drain's
// warning) into the guest through the adapter's notify hook — once per notice: a digest of the
// last notice handed over is kept in Annotations.NoticeDelivered. Best effort, as the contract
// says: the session's status and Events carry the same message, so an adapter without a channel
// into the guest (notify → false) is not asked again for the same notice.
import { createHash } from "node:crypto";
import { Annotations, type Desktop } from "../api/index.js";
import type { EventSink } from "../controllers/shared/events.js";
import type { HypervisorAdapter } from "../hypervisors/index.js";
import type { Cached, ObjectClient } from "../runtime/index.js";
import { desktopIdentity } from "./desktop-vm.js";

export function noticeDigest(message: string): string {
  return createHash("sha256").update(message).digest("hex").slice(0, 16);
}

/** The notice still to deliver, if any (pure). */
export function pendingNotice(desktop: Cached<Desktop>): string | undefined {
  const message = desktop.metadata.annotations?.[Annotations.Notice];
  if (!message) return undefined;
  return desktop.metadata.annotations?.[Annotations.NoticeDelivered] === noticeDigest(message)
    ? undefined
    : message;
}

/** Call for a desktop whose VM runs. */
export async function deliverNotice(
  desktop: Cached<Desktop>,
  adapter: HypervisorAdapter,
  client: ObjectClient<Desktop>,
  events: EventSink,
): Promise<void> {
  const message = pendingNotice(desktop);
  if (message === undefined) return;
  const shown = await adapter.notify(desktopIdentity(desktop), message);
  await client.mergePatch(
    { namespace: desktop.metadata.namespace, name: desktop.metadata.name as string },
    { metadata: { annotations: { [Annotations.NoticeDelivered]: noticeDigest(message) } } },
  );
  if (shown) events.event(desktop, "Normal", "NoticeDelivered", `shown in the guest: ${message}`);
}
