// Domain lifecycle events from libvirt (`virsh event --loop --event lifecycle`), so a VM that
// stops or crashes outside griddesk's control is noticed at once rather than at the next
// resync. One long-lived virsh per adapter, restarted with a delay when it exits; it exits by
// itself every 5 minutes, so one left behind by a SIGKILLed agent does not outlive it for long.
// The events are hints only (CONTRACT.md): losing one costs latency, never correctness.
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Clock } from "../clock.js";

const LINE = /^event 'lifecycle' for domain '([^']+)': (\S+)/;

export type DomainEventListener = (domain: string, event: string) => void;

export class DomainEvents {
  private child?: ChildProcess;
  private stopped = false;
  private cancelRestart?: () => void;

  constructor(
    private readonly uri: string,
    private readonly clock: Clock,
    private readonly listener: DomainEventListener,
    private readonly restartDelayMs = 2000,
  ) {}

  /** Starts watching (idempotent). */
  start(): void {
    if (this.stopped || this.child !== undefined) return;
    const child = spawn(
      "virsh",
      ["-q", "-c", this.uri, "event", "--loop", "--event", "lifecycle", "--timeout", "300"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    this.child = child;
    createInterface({ input: child.stdout }).on("line", (line) => {
      const m = LINE.exec(line);
      if (m !== null) this.listener(m[1] as string, m[2] as string);
    });
    child.on("error", () => undefined); // reported through "exit"/"close" below
    child.on("close", () => {
      if (this.child === child) this.child = undefined;
      if (!this.stopped) this.cancelRestart = this.clock.setTimeout(() => this.start(), this.restartDelayMs);
    });
  }

  stop(): void {
    this.stopped = true;
    this.cancelRestart?.();
    this.child?.kill();
    this.child = undefined;
  }
}
