// Events for what a person wants to see in `kubectl describe`: one core/v1 Event per
// (object, type, reason, message), its count bumped when the same thing happens again
// (as client-go's recorder aggregates), so a retry loop never floods the namespace.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Clock, RestClient } from "../../runtime/index.js";
import { ApiError, NotFoundError } from "../../runtime/index.js";

export type EventType = "Normal" | "Warning";

/** What an Event names (cached objects are read-only, so nothing here is mutable). */
export interface EventTarget {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
  };
}

export interface EventSink {
  event(obj: EventTarget, type: EventType, reason: string, message: string): void;
}

interface Seen {
  name: string;
  namespace: string;
  count: number;
  firstTimestamp: string;
}

const MAX_REMEMBERED = 4096;
/**
 * Events are written in the background, a few at a time, as client-go's broadcaster writes
 * them from one goroutine: a burst of them (a logon storm makes several per logon) then waits
 * its turn instead of competing with the writes a user is waiting for.
 */
const IN_FLIGHT = 2;
/** Beyond this many waiting, new events are dropped (client-go's broadcaster queues 1000). */
const MAX_QUEUED = 4096;

export class EventRecorder implements EventSink {
  private readonly seen = new Map<string, Seen>();
  private readonly queue: (() => Promise<void>)[] = [];
  private inFlight = 0;
  private dropped = 0;

  constructor(
    private readonly rest: RestClient,
    private readonly component: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** Cluster-scoped objects (HostNodes) have their events in this namespace, as Nodes use default. */
    private readonly clusterScopedNamespace = "default",
  ) {}

  /** Fire and forget: an event that cannot be written is logged, never fails a reconcile. */
  event(obj: EventTarget, type: EventType, reason: string, message: string): void {
    if (this.queue.length >= MAX_QUEUED) {
      if (this.dropped++ % 1000 === 0)
        this.log.warn({ dropped: this.dropped, reason }, "event queue full; dropping events");
      return;
    }
    const at = this.clock.now();
    this.queue.push(() =>
      this.record(obj, type, reason, message, at).catch((err: unknown) =>
        this.log.warn({ err: String(err), reason }, "could not write event"),
      ),
    );
    this.pump();
  }

  private pump(): void {
    while (this.inFlight < IN_FLIGHT && this.queue.length > 0) {
      const next = this.queue.shift() as () => Promise<void>;
      this.inFlight++;
      void next().finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async record(
    obj: EventTarget,
    type: EventType,
    reason: string,
    message: string,
    at: number,
  ): Promise<void> {
    const namespace = obj.metadata.namespace ?? this.clusterScopedNamespace;
    const key = [obj.metadata.uid, type, reason, message].join("\u0000");
    const now = new Date(at).toISOString();
    const prior = this.seen.get(key);
    if (prior) {
      prior.count++;
      try {
        await this.rest.request({
          method: "PATCH",
          path: `/api/v1/namespaces/${prior.namespace}/events/${prior.name}`,
          body: { count: prior.count, lastTimestamp: now },
          contentType: "application/merge-patch+json",
        });
        return;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
        this.seen.delete(key); // expired by the API server's event TTL: write a new one
      }
    }
    const name = `${obj.metadata.name}.${randomBytes(8).toString("hex")}`;
    const body = {
      apiVersion: "v1",
      kind: "Event",
      metadata: { name, namespace },
      involvedObject: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        name: obj.metadata.name,
        namespace: obj.metadata.namespace,
        uid: obj.metadata.uid,
        resourceVersion: obj.metadata.resourceVersion,
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      reportingInstance: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    try {
      await this.rest.request({ method: "POST", path: `/api/v1/namespaces/${namespace}/events`, body });
    } catch (err) {
      // A namespace being deleted refuses new events; nothing to tell anyone there.
      if (err instanceof ApiError && (err.statusCode === 403 || err.statusCode === 404)) return;
      throw err;
    }
    if (this.seen.size >= MAX_REMEMBERED) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, { name, namespace, count: 1, firstTimestamp: now });
  }
}
