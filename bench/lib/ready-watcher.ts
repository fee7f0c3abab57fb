// Watches the DesktopSessions of one namespace and notes when each was first seen Ready (an
// endpoint published). The operator's sessions and the floor's are timed by this same watch,
// so both figures include the same delivery path.
import type { Kube } from "./kube.js";
import { paths } from "./griddesk.js";

interface SessionEvent {
  metadata?: { name?: string; resourceVersion?: string };
  status?: { phase?: string };
}

export class ReadyWatcher {
  /** Session name → Date.now() when first seen Ready. */
  readonly readyAt = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private stopper?: { stop(): void };
  private stopped = false;

  constructor(
    private readonly kube: Kube,
    private readonly ns: string,
  ) {}

  async start(): Promise<void> {
    const list = (await this.kube.get(`${paths.sessions(this.ns)}?limit=1`)) as {
      metadata: { resourceVersion: string };
    };
    await this.open(list.metadata.resourceVersion);
  }

  private async open(rv: string): Promise<void> {
    let last = rv;
    this.stopper = await this.kube.watch(
      paths.sessions(this.ns),
      rv,
      (type, obj) => {
        const o = obj as SessionEvent;
        if (o.metadata?.resourceVersion) last = o.metadata.resourceVersion;
        if (type === "BOOKMARK" || type === "DELETED") return;
        const name = o.metadata?.name;
        if (name && o.status?.phase === "Ready" && !this.readyAt.has(name)) {
          this.readyAt.set(name, Date.now());
          for (const w of this.waiters) w();
        }
      },
      (err) => {
        if (this.stopped) return;
        if (err) console.warn(`session watch ended (${err.message}); reopening`);
        this.reopen(last);
      },
    );
  }

  private reopen(rv: string): void {
    setTimeout(() => {
      if (!this.stopped) this.open(rv).catch(() => this.reopen(rv));
    }, 200);
  }

  stop(): void {
    this.stopped = true;
    this.stopper?.stop();
  }

  /** Resolves when every name is Ready, or after timeoutMs (then false). */
  waitFor(names: readonly string[], timeoutMs: number): Promise<boolean> {
    const all = (): boolean => names.every((n) => this.readyAt.has(n));
    if (all()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = (): void => {
        if (!all()) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(check);
    });
  }
}
