// commander argument parsers that fail with a message naming the flag's expectation.
import { InvalidArgumentError, Option } from "commander";

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`expected a whole number >= 1, got "${value}"`);
  return n;
}

/** Seconds on the command line, milliseconds inside. */
export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`expected a number of seconds > 0, got "${value}"`);
  return n * 1000;
}

/** An option given in seconds and held in milliseconds; --help shows the default in seconds. */
export function secondsOption(flags: string, description: string, defaultSeconds: number): Option {
  return new Option(flags, description)
    .argParser(seconds)
    .default(defaultSeconds * 1000, `${defaultSeconds}`);
}
