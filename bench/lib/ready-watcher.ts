// Watches the DesktopSessions of one namespace and notes when each was first seen Ready (an
// endpoint published). The operator's sessions and the floor's are timed by this same watch,
// so both figures include the same delivery path.
import type { Kube } from "./kube.js";
import { paths } from "./griddesk.js";

interface SessionEvent {
  metadata?: { name?: string; resourceVersion?: string; finalizers?: string[] };
  status?: { phase?: string };
}

/** What the watch shows of a logon on its way to Ready, in order. */
export const STAGES = ["seen", "finalizer", "Bound", "Ready"] as const;
export type Stage = (typeof STAGES)[number];

export class ReadyWatcher {
  /** Session name → Date.now() when first seen Ready. */
  readonly readyAt = new Map<string, number>();
  /** Session name → Date.now() when each stage was first seen (for a breakdown of the latency). */
  readonly stageAt = new Map<string, Partial<Record<Stage, number>>>();
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
        if (name) this.noteStages(name, o);
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

  private noteStages(name: string, o: SessionEvent): void {
    const at = this.stageAt.get(name) ?? {};
    const t = Date.now();
    const seen = (stage: Stage): void => void (at[stage] ??= t);
    seen("seen");
    if (o.metadata?.finalizers?.length) seen("finalizer");
    if (o.status?.phase === "Bound") seen("Bound");
    if (o.status?.phase === "Ready") {
      seen("Bound");
      seen("Ready");
    }
    this.stageAt.set(name, at);
  }

  /**
   * Per stage, the median and p99 of the time from the previous stage (from the create for the
   * first), over `names` that reached Ready: where a logon's time goes.
   */
  breakdown(names: readonly string[], sentAt: (name: string) => number | undefined): string {
    const gaps = new Map<Stage, number[]>(STAGES.map((s) => [s, []]));
    for (const n of names) {
      const at = this.stageAt.get(n);
      let prev = sentAt(n);
      if (!at?.Ready || prev === undefined) continue;
      for (const s of STAGES) {
        const t = at[s];
        if (t === undefined) continue;
        gaps.get(s)?.push(t - prev);
        prev = t;
      }
    }
    const med = (v: number[], q: number): number =>
      [...v].sort((a, b) => a - b)[Math.floor(q * (v.length - 1))] ?? NaN;
    return STAGES.map((s) => {
      const v = gaps.get(s) ?? [];
      return `${s} +${Math.round(med(v, 0.5))}/${Math.round(med(v, 0.99))} ms`;
    }).join(", ");
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
