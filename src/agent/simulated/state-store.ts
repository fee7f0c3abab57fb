// The simulated hosts' state directory: one JSON file per host, loaded at start, written after
// each change (debounced, so a burst of creates costs one write) and on close. Writes go to a
// temporary file renamed into place, so a kill mid-write leaves the previous file intact.
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { SimulatedHostState } from "../../hypervisors/simulated/index.js";
import { SimulatedHostState as FreshState } from "../../hypervisors/simulated/index.js";
import type { Clock, Logger } from "../../runtime/index.js";
import { fromStateFile, toStateFile } from "./state-file.js";

export class SimulatedStateStore {
  /** Host name → state, shared with the simulated adapter factory. */
  readonly states = new Map<string, SimulatedHostState>();
  private readonly pending = new Map<string, () => void>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    private readonly dir: string,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly debounceMs = 100,
  ) {}

  fileOf(host: string): string {
    return join(this.dir, `${host}.json`);
  }

  /** Reads every host's file (a host without one starts empty); a corrupt file fails loudly. */
  async load(hosts: readonly string[]): Promise<Map<string, SimulatedHostState>> {
    await mkdir(this.dir, { recursive: true });
    for (const host of hosts) {
      let text: string;
      try {
        text = await readFile(this.fileOf(host), "utf8");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
        this.states.set(host, new FreshState());
        continue;
      }
      try {
        this.states.set(host, fromStateFile(JSON.parse(text)));
      } catch (err) {
        throw new Error(`cannot load simulated host state ${this.fileOf(host)}: ${(err as Error).message}`);
      }
      this.log.info({ host, vms: this.states.get(host)?.vms.size }, "simulated host state loaded");
    }
    return this.states;
  }

  /** Schedules a write of the host's state (at most one per debounce window). */
  changed(host: string): void {
    if (this.pending.has(host)) return;
    this.pending.set(
      host,
      this.clock.setTimeout(() => {
        this.pending.delete(host);
        void this.save(host);
      }, this.debounceMs),
    );
  }

  /** Writes now whatever is pending for `host` (every host when omitted), and waits for it. */
  async flush(host?: string): Promise<void> {
    const hosts = host === undefined ? [...this.pending.keys()] : this.pending.has(host) ? [host] : [];
    for (const h of hosts) {
      this.pending.get(h)?.();
      this.pending.delete(h);
    }
    await Promise.all(hosts.map((h) => this.save(h)));
    await Promise.all(host === undefined ? [...this.writes.values()] : [this.writes.get(host)]);
  }

  /** Writes are serialised per host; each writes the state as it is when it runs. */
  private save(host: string): Promise<void> {
    const previous = this.writes.get(host) ?? Promise.resolve();
    const next = previous.then(() => this.write(host));
    this.writes.set(host, next);
    return next;
  }

  private async write(host: string): Promise<void> {
    const state = this.states.get(host);
    if (state === undefined) return;
    const file = this.fileOf(host);
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      await writeFile(tmp, JSON.stringify(toStateFile(host, state)));
      await rename(tmp, file);
    } catch (err) {
      this.log.error({ host, file, err: String(err) }, "could not save simulated host state");
    }
  }
}
