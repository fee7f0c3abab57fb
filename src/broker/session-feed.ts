// The broker's one watch on DesktopSessions (a shared informer, all namespaces), feeding every
// progress stream: a page waiting for its desktop costs the API server nothing more than the
// watch already open, however many users log on at once. Listeners are kept by session key.
import type { DesktopSession } from "../api/index.js";
import { keyOf, type Cached, type Informer, type ObjectName } from "../runtime/index.js";

/** Called with the session as it now is, or undefined once it is deleted. */
export type SessionListener = (session: Cached<DesktopSession> | undefined) => void;

export class SessionFeed {
  private readonly listeners = new Map<string, Set<SessionListener>>();

  constructor(private readonly informer: Informer<DesktopSession>) {
    informer.addHandler({
      add: (s) => this.emit(keyOf(s.metadata as ObjectName), s),
      update: (_old, s) => this.emit(keyOf(s.metadata as ObjectName), s),
      delete: (s) => this.emit(keyOf(s.metadata as ObjectName), undefined),
    });
  }

  synced(): boolean {
    return this.informer.hasSynced();
  }

  get(name: ObjectName): Cached<DesktopSession> | undefined {
    return this.informer.get(keyOf(name));
  }

  /** Listens to one session's changes; returns the function that stops listening. */
  subscribe(name: ObjectName, listener: SessionListener): () => void {
    const key = keyOf(name);
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  private emit(key: string, session: Cached<DesktopSession> | undefined): void {
    for (const listener of this.listeners.get(key) ?? []) listener(session);
  }
}
