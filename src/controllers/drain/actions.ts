// Carrying out a drain plan's writes on other objects: idle desktops deleted (with
// preconditions, so a desktop a user bound a moment ago is never taken), notices written into
// each session's status with an Event, and handed to the agent for the in-guest message through
// an annotation on the desktop. Every write is idempotent; a failed one is retried by the
// reconcile that made it (the plan is recomputed from the cache).
import { Annotations } from "../../api/constants.js";
import type { Desktop, DesktopSession } from "../../api/types.generated.js";
import type { Cached, Logger, ObjectClient } from "../../runtime/index.js";
import { ConflictError, NotFoundError } from "../../runtime/index.js";
import { mapLimit } from "../shared/concurrency.js";
import type { EventSink } from "../shared/events.js";
import { patchStatusIfChanged } from "../shared/status.js";
import type { NoticeWrite, SessionOnHost } from "./plan.js";

const CONCURRENCY = 16;
/** Notices are what users wait for: a host's sessions are told at once (a host holds dozens). */
const NOTICE_CONCURRENCY = 64;

export interface DrainActionDeps {
  desktops: ObjectClient<Desktop>;
  sessions: ObjectClient<DesktopSession>;
  events: EventSink;
  log: Logger;
}

export class DrainActions {
  constructor(private readonly deps: DrainActionDeps) {}

  async deleteIdle(host: string, desktops: readonly Cached<Desktop>[]): Promise<void> {
    await mapLimit(desktops, CONCURRENCY, async (d) => {
      try {
        await this.deps.desktops.delete(d.metadata, {
          preconditions: { uid: d.metadata.uid, resourceVersion: d.metadata.resourceVersion },
        });
        this.deps.log.info({ host, desktop: d.metadata.name }, "drain: deleted idle desktop");
      } catch (err) {
        // Bound or changed since the cache saw it: the next pass looks again.
        if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
      }
    });
  }

  /** Users first (the session notices, all at once), then Events and the in-guest messages. */
  async notify(writes: readonly NoticeWrite[]): Promise<void> {
    await mapLimit(writes, NOTICE_CONCURRENCY, async (w) => {
      const notice = { message: w.notice.message, deadline: w.notice.deadline ?? null };
      await patchStatusIfChanged(this.deps.sessions, w.session, { notice });
      this.deps.events.event(w.session, "Warning", w.reason, w.notice.message);
    });
    await mapLimit(writes, CONCURRENCY, (w) => this.annotate(w.desktop, w.notice.message));
  }

  async withdraw(sessions: readonly SessionOnHost[]): Promise<void> {
    await mapLimit(sessions, NOTICE_CONCURRENCY, async ({ session }) => {
      if (!session) return;
      await patchStatusIfChanged(this.deps.sessions, session, { notice: null });
      this.deps.events.event(
        session,
        "Normal",
        "DrainCancelled",
        "the maintenance was called off: you may keep working",
      );
    });
    await mapLimit(sessions, CONCURRENCY, ({ desktop }) => this.annotate(desktop, null));
  }

  /** The in-guest message: the agent delivers it through its adapter's notify hook. */
  private async annotate(desktop: Cached<Desktop>, message: string | null): Promise<void> {
    if ((desktop.metadata.annotations?.[Annotations.Notice] ?? null) === message) return;
    if (desktop.metadata.deletionTimestamp) return;
    try {
      await this.deps.desktops.mergePatch(desktop.metadata, {
        metadata: { annotations: { [Annotations.Notice]: message } },
      });
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
    }
  }
}
