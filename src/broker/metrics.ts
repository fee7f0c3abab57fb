// The broker's Prometheus metrics, on a registry of its own: sign-ins and logons, consoles opened
// and open, how long a console took from the ticket's arrival to the relay's start, and tickets
// refused, by reason.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { ConsoleRefusal } from "./refusals.js";

export class BrokerMetrics {
  readonly registry = new Registry();
  readonly signIns: Counter<"result">;
  readonly logons: Counter;
  readonly consolesOpened: Counter;
  readonly consolesActive: Gauge;
  readonly consoleConnectSeconds: Histogram;
  private readonly refusals: Counter<"reason">;

  constructor(opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.signIns = new Counter({
      name: "griddesk_broker_signins_total",
      help: "Sign-ins, by result (success, refused).",
      labelNames: ["result"],
      registers,
    });
    this.logons = new Counter({
      name: "griddesk_broker_logons_total",
      help: "Sessions the broker created for users (reconnects to a running session are not logons).",
      registers,
    });
    this.consolesOpened = new Counter({
      name: "griddesk_broker_consoles_opened_total",
      help: "Console connections relayed to a desktop.",
      registers,
    });
    this.consolesActive = new Gauge({
      name: "griddesk_broker_consoles_active",
      help: "Console connections open now.",
      registers,
    });
    this.consoleConnectSeconds = new Histogram({
      name: "griddesk_broker_console_connect_seconds",
      help: "From a console ticket's arrival to the desktop's VNC server authenticated and the relay started.",
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.refusals = new Counter({
      name: "griddesk_broker_console_refusals_total",
      help: "Console connections refused before the WebSocket upgrade, by reason.",
      labelNames: ["reason"],
      registers,
    });
  }

  refused(reason: ConsoleRefusal): void {
    this.refusals.inc({ reason });
  }
}
