// Messages into a guest through its first serial port. Each domain's serial port is a UNIX
// socket on the host (libvirt creates it and removes it with the domain); the agent writes one
// line, "griddesk-notice TEXT", and a guest that listens (the test image's /init does: it shows
// TEXT on screen) answers "griddesk-notice-shown". No answer in time means the guest has no
// listener: notify reports false and the session's status and Events carry the message alone.
// Written by hand because it is a dozen lines of node:net, not a protocol a library offers.
import { connect } from "node:net";
import path from "node:path";

export const NOTICE_TAG = "griddesk-notice";
export const NOTICE_ACK = "griddesk-notice-shown";
/** sun_path holds 108 bytes with the terminating NUL; longer paths cannot be bound. */
const MAX_SOCKET_PATH = 107;
const MAX_TEXT = 1000;

/** The socket of a desktop's serial port, or undefined when the path would be too long to bind. */
export function noticeSocketPath(dir: string, uid: string): string | undefined {
  const file = path.join(dir, `${uid}.sock`);
  return Buffer.byteLength(file) <= MAX_SOCKET_PATH ? file : undefined;
}

/** One line of printable text: control characters become spaces; long text is cut. */
export function noticeLine(message: string): string {
  // eslint-disable-next-line no-control-regex
  const text = message.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
  return `${NOTICE_TAG} ${text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text}\n`;
}

/** Writes the notice; resolves true once the guest acknowledges it, false otherwise. */
export function sendNotice(socketPath: string, message: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    let received = "";
    const done = (shown: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(shown);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("connect", () => socket.write(noticeLine(message)));
    socket.on("data", (chunk: Buffer) => {
      received = (received + chunk.toString("utf8")).slice(-256);
      if (received.includes(NOTICE_ACK)) done(true);
    });
    socket.once("error", () => done(false)); // no socket: the domain is gone or has no such port
    socket.once("close", () => done(false));
  });
}
