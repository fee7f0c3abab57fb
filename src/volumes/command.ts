// Runs a host tool (qemu-img, virsh) as a subprocess: argv only, never a shell string, with a
// timeout, and a typed error that carries the tool's own words (stderr) for conditions and logs.
import { execFile } from "node:child_process";

export interface CommandOptions {
  /** Kill the tool after this long (default 60 s). */
  readonly timeoutMs?: number;
}

export class CommandError extends Error {
  override readonly name = "CommandError";
  constructor(
    readonly command: string,
    readonly code: number | string | null,
    readonly stderr: string,
    readonly timedOut: boolean,
  ) {
    const what = timedOut ? "timed out" : `failed (exit ${String(code)})`;
    super(`${command} ${what}: ${stderr.trim() || "no output"}`);
  }
}

/** Resolves with stdout; rejects CommandError on a non-zero exit, a signal or the timeout. */
export function runCommand(
  file: string,
  args: readonly string[],
  opts: CommandOptions = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 * 1024 * 1024, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error === null) return resolve(stdout);
        const code = (error as { code?: number | string }).code ?? error.signal ?? null;
        const timedOut = error.killed === true && error.signal === "SIGTERM";
        reject(new CommandError(`${file} ${args[0] ?? ""}`.trim(), code, stderr || error.message, timedOut));
      },
    );
  });
}
