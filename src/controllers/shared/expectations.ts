// Creates and deletes this controller has made but not yet seen in its informer cache
// (KubeVirt's "expectations"). A reconcile that acted on a stale cache would otherwise create
// the same desktops twice or place two pools' desktops into one host's last free slot.
// Entries leave when the informer shows the change, or after a TTL in case an event was missed.
import type { Clock } from "../../runtime/index.js";
import type { Reservation } from "./hostview.js";

interface Pending {
  owner: string;
  kind: "create" | "delete";
  reservation?: Reservation;
  expiresAt: number;
}

export class Expectations {
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 60_000,
  ) {}

  expectCreate(owner: string, key: string, reservation: Reservation): void {
    this.pending.set(key, { owner, kind: "create", reservation, expiresAt: this.clock.now() + this.ttlMs });
  }

  expectDelete(owner: string, key: string): void {
    this.pending.set(key, { owner, kind: "delete", expiresAt: this.clock.now() + this.ttlMs });
  }

  /** The informer saw the object (created) — or saw it gone or terminating (deleted). */
  observed(key: string, kind: "create" | "delete"): void {
    if (this.pending.get(key)?.kind === kind) this.pending.delete(key);
  }

  /** Forget an expectation whose write failed. */
  forget(key: string): void {
    this.pending.delete(key);
  }

  /** True when every change `owner` made has been observed (or has expired). */
  satisfied(owner: string): boolean {
    this.expire();
    for (const p of this.pending.values()) if (p.owner === owner) return false;
    return true;
  }

  /** Resources of desktops created but not yet in the cache, per host, across all owners. */
  reservations(): Reservation[] {
    this.expire();
    const out: Reservation[] = [];
    for (const p of this.pending.values()) if (p.reservation) out.push(p.reservation);
    return out;
  }

  private expire(): void {
    const now = this.clock.now();
    for (const [key, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(key);
  }
}
