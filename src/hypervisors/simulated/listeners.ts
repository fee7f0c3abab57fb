// The onChange listeners of one adapter instance.
import type { AdapterEvent, AdapterListener } from "../adapter.js";

export class Listeners {
  private readonly set = new Set<AdapterListener>();

  add(listener: AdapterListener): () => void {
    this.set.add(listener);
    return () => this.set.delete(listener);
  }

  /** Calls every listener; one that throws stops neither the others nor the caller. */
  emit(event: AdapterEvent): void {
    for (const listener of [...this.set]) {
      try {
        listener(event);
      } catch {
        // Listeners must not throw (CONTRACT.md); a broken one must not break the simulation.
      }
    }
  }

  clear(): void {
    this.set.clear();
  }
}
