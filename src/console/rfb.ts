// The opening of the RFB (VNC) protocol, RFC 6143 §7.1–7.2, at both ends the broker stands at:
// towards the desktop it is the client and answers VNC authentication with the desktop's
// password; towards the browser it is the server and offers no authentication (the ticket checked
// before the WebSocket upgrade is the browser's credential). From ClientInit on, the bytes are
// relayed unchanged. Hand-written because it is 60 lines of a fixed exchange: no maintained npm
// library does the server half, and the client libraries own the socket for the whole session.
import { createCipheriv } from "node:crypto";

export const RFB_VERSION_3_8 = "RFB 003.008\n";
export const SecurityType = { None: 1, VncAuthentication: 2 } as const;

export class RfbError extends Error {
  override readonly name = "RfbError";
}

/** Reads exact byte counts from a stream of chunks (a socket or WebSocket messages). */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private size = 0;
  private waiter: (() => void) | undefined;
  private ended: Error | undefined;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.waiter?.();
  }

  /** No more bytes will come: pending and later reads fail with `err`. */
  end(err: Error): void {
    this.ended ??= err;
    this.waiter?.();
  }

  async read(n: number): Promise<Buffer> {
    while (this.size < n) {
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.waiter = resolve));
      this.waiter = undefined;
    }
    const all = Buffer.concat(this.chunks);
    this.chunks = all.length > n ? [all.subarray(n)] : [];
    this.size = all.length - n;
    return all.subarray(0, n);
  }

  /** Whatever has arrived beyond the reads: relayed first once the handshake is over. */
  drain(): Buffer {
    const all = Buffer.concat(this.chunks);
    this.chunks = [];
    this.size = 0;
    return all;
  }
}

/**
 * VNC authentication's response: the 16-byte challenge DES-encrypted with the password (up to 8
 * bytes, zero-padded) as key, each key byte's bits reversed. Single DES is not in OpenSSL 3's
 * default provider; triple DES with the key three times over is the same cipher.
 */
export function vncAuthResponse(password: string, challenge: Buffer): Buffer {
  if (challenge.length !== 16) throw new RfbError(`a VNC challenge is 16 bytes, got ${challenge.length}`);
  const key = Buffer.alloc(8);
  Buffer.from(password, "latin1").copy(key, 0, 0, 8);
  for (let i = 0; i < 8; i++) key[i] = reverseBits(key[i] as number);
  const cipher = createCipheriv("des-ede3-ecb", Buffer.concat([key, key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(challenge), cipher.final()]);
}

function reverseBits(b: number): number {
  let r = 0;
  for (let i = 0; i < 8; i++) r |= ((b >> i) & 1) << (7 - i);
  return r;
}

function parseVersion(bytes: Buffer): { major: number; minor: number } {
  const m = /^RFB (\d{3})\.(\d{3})\n$/.exec(bytes.toString("latin1"));
  if (!m) throw new RfbError("the peer does not speak RFB");
  return { major: Number(m[1]), minor: Number(m[2]) };
}

async function readReason(q: ByteQueue): Promise<string> {
  const length = (await q.read(4)).readUInt32BE(0);
  return (await q.read(Math.min(length, 1024))).toString("utf8");
}

/**
 * The client half towards a VNC server, up to and excluding ClientInit. Uses VNC authentication
 * when a password is given and the server offers it, None when the server offers only that.
 */
export async function authenticateToServer(
  q: ByteQueue,
  write: (b: Buffer) => void,
  password: string | undefined,
): Promise<void> {
  const { major, minor } = parseVersion(await q.read(12));
  if (major < 3 || (major === 3 && minor < 8))
    throw new RfbError(`the VNC server speaks RFB ${major}.${minor}; 3.8 is required`);
  write(Buffer.from(RFB_VERSION_3_8, "latin1"));
  const count = (await q.read(1))[0] as number;
  if (count === 0) throw new RfbError(`the VNC server refused the connection: ${await readReason(q)}`);
  const offered = [...(await q.read(count))];
  let type: number;
  if (password !== undefined && offered.includes(SecurityType.VncAuthentication))
    type = SecurityType.VncAuthentication;
  else if (offered.includes(SecurityType.None)) type = SecurityType.None;
  else
    throw new RfbError(
      `the VNC server offers security types ${offered.join(", ")}; the broker can answer ` +
        (password === undefined
          ? "None only (no password is kept for this desktop)"
          : "VNC authentication or None"),
    );
  write(Buffer.from([type]));
  if (type === SecurityType.VncAuthentication && password !== undefined)
    write(vncAuthResponse(password, await q.read(16)));
  if ((await q.read(4)).readUInt32BE(0) !== 0)
    throw new RfbError(`the VNC server refused authentication: ${await readReason(q)}`);
}

/** The server half towards a browser: RFB 3.8 with security type None, up to ClientInit. */
export async function greetClient(q: ByteQueue, write: (b: Buffer) => void): Promise<void> {
  write(Buffer.from(RFB_VERSION_3_8, "latin1"));
  const { major, minor } = parseVersion(await q.read(12));
  if (major !== 3 || minor < 8) {
    const reason = Buffer.from("griddesk needs an RFB 3.8 client", "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(reason.length);
    write(Buffer.concat([Buffer.from([0]), length, reason]));
    throw new RfbError(`the client speaks RFB ${major}.${minor}; 3.8 is required`);
  }
  write(Buffer.from([1, SecurityType.None]));
  const chosen = (await q.read(1))[0];
  if (chosen !== SecurityType.None) throw new RfbError(`the client chose security type ${chosen}, not None`);
  write(Buffer.alloc(4)); // SecurityResult: OK
}
