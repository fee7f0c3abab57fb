// Structured JSON logs (pino). The level is an argument, never read from the environment at
// import time; context (controller, object, reconcileID) travels as child-logger bindings.
import { pino, type DestinationStream, type Level, type Logger } from "pino";
import type { ObjectName } from "./resource.js";

export type { Logger };

export interface LoggerOptions {
  level?: Level | "silent";
  /** Written as `name` on every line, e.g. "griddesk-controller". */
  name?: string;
  /** Where lines go; stdout when omitted. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = {
    level: opts.level ?? "info",
    base: opts.name ? { name: opts.name } : {},
    timestamp: pino.stdTimeFunctions.isoTime,
    // Level names rather than numbers: what a person grepping logs expects.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that discards everything: the default where a logger is optional. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}

export function controllerLogger(log: Logger, controller: string): Logger {
  return log.child({ controller });
}

/** `object` is written as "namespace/name" (or "name"), as controller-runtime does. */
export function reconcileLogger(log: Logger, obj: ObjectName, reconcileID: string): Logger {
  const object = obj.namespace ? { namespace: obj.namespace, name: obj.name } : { name: obj.name };
  return log.child({ object, reconcileID });
}
