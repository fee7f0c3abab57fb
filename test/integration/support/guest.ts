// Acting as the user inside a libvirt test desktop: the test image's /init takes commands on its
// first serial port (hack/build-test-image.sh), which libvirt exposes as a UNIX socket on the
// host (the same port the agent's notices use).
import { connect } from "node:net";
import path from "node:path";

/** The serial-port socket of the desktop with this uid on a host with this storage directory. */
export const serialSocket = (storagePath: string, uid: string): string =>
  path.join(storagePath, "notices", `${uid}.sock`);

/**
 * Sends one command line and resolves the first line the guest answers that starts with one of
 * `replies`; rejects after `timeoutMs` (a guest still booting does not answer yet: retry).
 */
export function guestCommand(
  socketPath: string,
  line: string,
  replies: string[],
  timeoutMs = 5000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let received = "";
    const finish = (err: Error | undefined, answer?: string) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer as string);
    };
    const timer = setTimeout(
      () => finish(new Error(`no answer to ${JSON.stringify(line)} in ${timeoutMs} ms`)),
      timeoutMs,
    );
    socket.once("connect", () => socket.write(`${line}\n`));
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("utf8");
      // Whole lines only: an answer may arrive in pieces.
      for (const l of received.split(/\r?\n/).slice(0, -1)) {
        const text = l.trim();
        if (replies.some((r) => text.startsWith(r))) return finish(undefined, text);
      }
    });
    socket.once("error", (err) => finish(err));
  });
}

/** What the guest's profile disk holds: its logon counter and its one-line file. */
export async function readProfile(socketPath: string): Promise<{ logons: number; file: string } | undefined> {
  const answer = await guestCommand(socketPath, "griddesk-profile-read", [
    "griddesk-profile-state",
    "griddesk-profile-none",
  ]);
  const m = /^griddesk-profile-state griddesk-profile logons=(\d+) file=(.*)$/.exec(answer);
  return m ? { logons: Number(m[1]), file: (m[2] as string).trim() } : undefined;
}
