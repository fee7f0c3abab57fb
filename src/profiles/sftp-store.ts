// The profile store on an SFTP server (OpenSSH's): the few primitives a crash-safe publish is
// made of, each bounded by a deadline. ssh2 never calls a pending operation's callback once the
// connection is gone (PROFILES.md), so every operation races the connection's end and its own
// deadline; an operation that loses the race ends the connection, so nothing of it lingers (no
// late callback, no open handle), and the caller connects again. Nothing here is ever modified in
// place: files are written under a temporary name, made durable (fsync), then published once
// (hardlink, which refuses an existing name) or swapped in (posix-rename, atomic), and the
// directory is made durable after. Paths are relative to the store's root and may not leave it.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import path from "node:path";
import { Client, type ConnectConfig, type FileEntryWithStats, type SFTPWrapper } from "ssh2";

/** Why a store operation failed, so callers branch on kind, not on message text. */
export type StoreErrorCode =
  | "Timeout" // the operation's deadline passed (the connection was ended)
  | "ConnectionLost" // the server or the network went away mid-operation
  | "Exists" // publish-once: the name is taken (by an earlier publish)
  | "NotFound"
  | "VerifyFailed" // what was read back differs from what was sent
  | "InvalidPath"
  | "Failure"; // anything else the server said no to

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "StoreError";
  }
}

export interface SftpStoreConfig {
  host: string;
  port: number;
  username: string;
  privateKey: Buffer | string;
  /** The server's public key as in a .pub file ("ssh-ed25519 AAAA… comment"): pinned, never trusted on first use. */
  hostKey: string;
  /** The store's directory on the server; every path given to the store is relative to it. */
  root: string;
  /** How long connecting may take (ms). */
  connectTimeoutMs?: number;
  /** Deadline of a metadata operation (stat, link, rename, list, delete), ms. */
  opTimeoutMs?: number;
  /** A transfer's deadline: this much, plus its size at `minBytesPerSecond`. */
  transferBaseMs?: number;
  minBytesPerSecond?: number;
  /** A hung server is noticed after keepaliveIntervalMs × 3 (ssh2's keepaliveCountMax). */
  keepaliveIntervalMs?: number;
}

/** A file uploaded under a temporary name and made durable; not yet published. */
export interface Upload {
  tempPath: string;
  size: number;
  sha256: string;
}

export interface Entry {
  name: string;
  size: number;
  mtimeMs: number;
  isDirectory: boolean;
}

/** Where uploads wait to be published, in each directory: never read as published data. */
export const TEMP_DIR = ".tmp";
const PART = ".part";

const DEFAULTS = {
  connectTimeoutMs: 10_000,
  opTimeoutMs: 15_000,
  transferBaseMs: 15_000,
  minBytesPerSecond: 4 * 1024 * 1024,
  keepaliveIntervalMs: 2_000,
};

const SFTP_NO_SUCH_FILE = 2;
const SFTP_EOF = 1;
/** Read-back: bytes per request and requests in flight (as fastPut's defaults, doubled). */
const READ_CHUNK = 32 * 1024;
const READ_AHEAD = 32;

export class SftpStore {
  private gone: Error | undefined;
  private readonly onGone = new Set<(err: Error) => void>();

  private constructor(
    private readonly client: Client,
    private readonly sftp: SFTPWrapper,
    private readonly cfg: Required<SftpStoreConfig>,
  ) {
    const end = (err?: Error) =>
      this.markGone(
        new StoreError("ConnectionLost", `connection to the store lost${err ? `: ${err.message}` : ""}`),
      );
    client.on("error", end);
    client.on("close", () => end());
    sftp.on("error", end); // an unhandled 'error' would end the process, not just the connection
  }

  private markGone(err: StoreError): void {
    if (this.gone) return;
    this.gone = err;
    for (const notify of this.onGone) notify(err);
  }

  /** Connects, pins the host key, opens the SFTP channel; within connectTimeoutMs. */
  static async connect(config: SftpStoreConfig): Promise<SftpStore> {
    const cfg = { ...DEFAULTS, ...config } as Required<SftpStoreConfig>;
    const pinned = Buffer.from(config.hostKey.trim().split(/\s+/)[1] ?? "", "base64");
    if (pinned.length === 0) throw new StoreError("Failure", "hostKey is not an OpenSSH public key line");
    const client = new Client();
    // ssh2 may emit more than one 'error' for one failure (a connection cut during the handshake
    // did), and an 'error' nobody hears ends the process: this listener stays for the client's
    // life; the store's own handling (below, and in the constructor) decides what an error means.
    client.on("error", () => undefined);
    const opts: ConnectConfig = {
      host: cfg.host,
      port: cfg.port,
      username: cfg.username,
      privateKey: cfg.privateKey,
      readyTimeout: cfg.connectTimeoutMs,
      keepaliveInterval: cfg.keepaliveIntervalMs,
      keepaliveCountMax: 3,
      hostVerifier: (key: Buffer) => key.equals(pinned),
    };
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => {
      const timer = setTimeout(() => {
        client.destroy();
        reject(
          new StoreError(
            "Timeout",
            `connecting to ${cfg.host}:${cfg.port} took over ${cfg.connectTimeoutMs} ms`,
          ),
        );
      }, cfg.connectTimeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        client.destroy();
        reject(new StoreError("ConnectionLost", `connecting to ${cfg.host}:${cfg.port}: ${err.message}`));
      };
      client.on("error", fail);
      client.once("ready", () => {
        client.sftp((err, channel) => {
          clearTimeout(timer);
          client.removeListener("error", fail);
          if (err) return fail(err);
          resolve(channel);
        });
      });
      client.connect(opts);
      // Nagle's algorithm against the peer's delayed ACK held every small request ~40 ms: a
      // claim (about a dozen round trips) took 1.2 s on a loopback link. Bulk transfers are
      // large writes and lose nothing by it.
      client.setNoDelay(true);
    });
    return new SftpStore(client, sftp, cfg);
  }

  /** Ends the connection (idempotent); operations still pending fail with ConnectionLost. */
  close(): void {
    this.markGone(new StoreError("ConnectionLost", "the connection was closed"));
    this.client.end();
    this.client.destroy();
  }

  get connected(): boolean {
    return this.gone === undefined;
  }

  /**
   * Uploads `localPath` to a temporary name in the directory of `remotePath` and makes it
   * durable (fsync on the server); the caller verifies and publishes it.
   */
  async upload(localPath: string, remotePath: string): Promise<Upload> {
    const tempPath = await this.tempFor(this.rel(remotePath));
    const { size, sha256 } = await digestOf(createReadStream(localPath));
    const deadline = this.transferDeadline(size);
    await this.run(`upload ${remotePath}`, deadline, (done) =>
      this.sftp.fastPut(localPath, this.abs(tempPath), { concurrency: 16, chunkSize: 32 * 1024 }, done),
    );
    await this.fsyncPath(tempPath, "r+");
    return { tempPath, size, sha256 };
  }

  /** Reads the upload back and compares size and sha256 (an SFTP server computes no checksums). */
  async verify(upload: Upload): Promise<void> {
    const got = await this.digest(upload.tempPath, upload.size);
    if (got.size !== upload.size || got.sha256 !== upload.sha256)
      throw new StoreError(
        "VerifyFailed",
        `${upload.tempPath}: read back ${got.size} bytes sha256 ${got.sha256}, sent ${upload.size} bytes sha256 ${upload.sha256}`,
      );
  }

  /**
   * Publishes a verified upload under `finalPath`, once: a name that exists is never replaced
   * (StoreError "Exists"). The temporary name is removed after; the directory made durable.
   */
  async publishOnce(upload: Upload, finalPath: string): Promise<void> {
    const target = this.rel(finalPath);
    try {
      await this.run(`publish ${finalPath}`, this.cfg.opTimeoutMs, (done) =>
        this.sftp.ext_openssh_hardlink(this.abs(upload.tempPath), this.abs(target), done),
      );
    } catch (err) {
      // OpenSSH answers a taken name with the generic Failure: look whether the name exists.
      if (err instanceof StoreError && err.code === "Failure" && (await this.exists(target)))
        throw new StoreError("Exists", `${finalPath} is already published`);
      throw err;
    } finally {
      await this.delete(upload.tempPath).catch(() => undefined);
    }
    await this.fsyncPath(path.posix.dirname(target), "r");
  }

  /**
   * Replaces the small file `remotePath` (a manifest) atomically: temp, fsync, posix-rename,
   * directory fsync. A reader sees the old content or the new one, never a mix or nothing.
   */
  async swap(remotePath: string, content: Buffer): Promise<void> {
    const target = this.rel(remotePath);
    const { tempPath } = await this.put(target, content);
    await this.run(`rename onto ${remotePath}`, this.cfg.opTimeoutMs, (done) =>
      this.sftp.ext_openssh_rename(this.abs(tempPath), this.abs(target), done),
    );
    await this.fsyncPath(path.posix.dirname(target), "r");
  }

  /**
   * Writes a small file (a manifest, a marker) to a temporary name beside `remotePath` and makes
   * it durable, like upload() does for a local file; the caller publishes or swaps it in.
   */
  async put(remotePath: string, content: Buffer): Promise<Upload> {
    const tempPath = await this.tempFor(this.rel(remotePath));
    const handle = await this.run<Buffer>(`write ${remotePath}`, this.cfg.opTimeoutMs, (done) =>
      this.sftp.open(this.abs(tempPath), "w", done),
    );
    try {
      await this.run(`write ${remotePath}`, this.cfg.opTimeoutMs, (done) =>
        this.sftp.write(handle, content, 0, content.length, 0, done),
      );
      await this.run(`fsync ${tempPath}`, this.cfg.opTimeoutMs, (done) =>
        this.sftp.ext_openssh_fsync(handle, done),
      );
    } finally {
      await this.closeHandle(handle);
    }
    return { tempPath, size: content.length, sha256: createHash("sha256").update(content).digest("hex") };
  }

  /** The whole of a small file (a manifest). */
  async read(remotePath: string): Promise<Buffer> {
    const rel = this.rel(remotePath);
    return this.readRemote(rel, `read ${remotePath}`, this.cfg.opTimeoutMs, async (source) => {
      const chunks: Buffer[] = [];
      for await (const chunk of source) chunks.push(chunk);
      return Buffer.concat(chunks);
    });
  }

  /** The first `bytes` of a file (all of a shorter one), in one request: an image's header. */
  async readStart(remotePath: string, bytes: number): Promise<Buffer> {
    const rel = this.rel(remotePath);
    const handle = await this.run<Buffer>(`open ${rel}`, this.cfg.opTimeoutMs, (done) =>
      this.sftp.open(this.abs(rel), "r", done),
    );
    try {
      const buf = Buffer.alloc(Math.min(bytes, READ_CHUNK));
      const read = await this.run<number>(`read ${rel}`, this.cfg.opTimeoutMs, (done) =>
        this.sftp.read(handle, buf, 0, buf.length, 0, (err, bytesRead) => {
          if (err && (err as { code?: unknown }).code === SFTP_EOF) return done(null, 0);
          if (err) return done(err);
          done(null, bytesRead);
        }),
      );
      return buf.subarray(0, read);
    } finally {
      await this.closeHandle(handle);
    }
  }

  /** Downloads to `localPath` (through a local temporary name, renamed once complete). */
  async download(remotePath: string, localPath: string): Promise<void> {
    const rel = this.rel(remotePath);
    const { size } = await this.stat(rel);
    const part = `${localPath}.${randomBytes(6).toString("hex")}${PART}`;
    try {
      await this.run(`download ${remotePath}`, this.transferDeadline(size), (done) =>
        this.sftp.fastGet(this.abs(rel), part, { concurrency: 16, chunkSize: 32 * 1024 }, done),
      );
      await rename(part, localPath);
    } finally {
      await rm(part, { force: true });
    }
  }

  /** The entries of a directory (without . and ..); [] when it does not exist. */
  async list(remoteDir: string): Promise<Entry[]> {
    const rel = this.rel(remoteDir);
    const entries = await unlessNotFound<readonly FileEntryWithStats[]>(
      this.run(`list ${remoteDir}`, this.cfg.opTimeoutMs, (done) => this.sftp.readdir(this.abs(rel), done)),
      [],
    );
    return entries
      .map((e) => ({
        name: e.filename,
        size: e.attrs.size,
        mtimeMs: e.attrs.mtime * 1000,
        isDirectory: e.attrs.isDirectory(),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Removes a file; a file already gone is not an error. */
  async delete(remotePath: string): Promise<void> {
    const rel = this.rel(remotePath);
    await unlessNotFound(
      this.run(`delete ${remotePath}`, this.cfg.opTimeoutMs, (done) => this.sftp.unlink(this.abs(rel), done)),
      undefined,
    );
  }

  /**
   * Removes a directory and everything in it (a profile erased), depth first; a directory
   * already gone is not an error. Refuses the store's root itself.
   */
  async removeTree(remoteDir: string): Promise<void> {
    const rel = this.rel(remoteDir);
    if (rel === "." || rel === "") throw new StoreError("InvalidPath", "refusing to remove the store's root");
    for (const entry of await this.list(rel)) {
      const child = path.posix.join(rel, entry.name);
      if (entry.isDirectory) await this.removeTree(child);
      else await this.delete(child);
    }
    await unlessNotFound(
      this.run(`rmdir ${remoteDir}`, this.cfg.opTimeoutMs, (done) => this.sftp.rmdir(this.abs(rel), done)),
      undefined,
    );
    await this.fsyncPath(path.posix.dirname(rel), "r").catch(() => undefined);
  }

  /**
   * Removes what interrupted uploads left in `remoteDir`'s temporary directory: every partial
   * file last written more than `olderThanMs` ago (0: all; only when no upload there is live).
   * Returns the names removed.
   */
  async collectPartials(remoteDir: string, olderThanMs: number): Promise<string[]> {
    const dir = path.posix.join(this.rel(remoteDir), TEMP_DIR);
    const cutoff = Date.now() - olderThanMs;
    const stale = (await this.list(dir)).filter(
      (e) => !e.isDirectory && e.name.endsWith(PART) && (olderThanMs === 0 || e.mtimeMs < cutoff),
    );
    for (const e of stale) await this.delete(path.posix.join(dir, e.name));
    return stale.map((e) => e.name);
  }

  async exists(remotePath: string): Promise<boolean> {
    return unlessNotFound(
      this.stat(this.rel(remotePath)).then(() => true),
      false,
    );
  }

  private async stat(rel: string): Promise<{ size: number }> {
    const st = await this.run<{ size: number }>(`stat ${rel}`, this.cfg.opTimeoutMs, (done) =>
      this.sftp.stat(this.abs(rel), done),
    );
    return { size: st.size };
  }

  private digest(rel: string, expectedSize: number): Promise<Digest> {
    return this.readRemote(rel, `read back ${rel}`, this.transferDeadline(expectedSize), digestOf);
  }

  /**
   * Feeds a remote file's bytes to `consume`, all of it within `deadlineMs` (past it, the
   * connection is ended, as for any call that overruns).
   */
  private async readRemote<T>(
    rel: string,
    what: string,
    deadlineMs: number,
    consume: (source: AsyncIterable<Buffer>) => Promise<T>,
  ): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new StoreError("Timeout", `${what}: not done within ${deadlineMs} ms; connection ended`));
        this.close();
      }, deadlineMs);
    });
    try {
      return await Promise.race([consume(this.readAhead(rel, what)), overdue]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A remote file's bytes in order, with READ_AHEAD requests in flight: one request at a time
   * waits a round trip per chunk (a 400 MB read-back took minutes that way; upload's fastPut
   * keeps 16 in flight). Each request is raced like any other call.
   */
  private async *readAhead(rel: string, what: string): AsyncGenerator<Buffer> {
    const handle = await this.run<Buffer>(`open ${rel}`, this.cfg.opTimeoutMs, (done) =>
      this.sftp.open(this.abs(rel), "r", done),
    );
    const inFlight: Promise<Buffer>[] = [];
    let next = 0;
    const request = () => {
      const position = next;
      next += READ_CHUNK;
      const chunk = this.run<Buffer>(`${what} at ${position}`, this.cfg.opTimeoutMs, (done) => {
        const buf = Buffer.allocUnsafe(READ_CHUNK);
        this.sftp.read(handle, buf, 0, READ_CHUNK, position, (err, bytesRead) => {
          if (err && (err as { code?: unknown }).code === SFTP_EOF) return done(null, Buffer.alloc(0));
          if (err) return done(err);
          done(null, buf.subarray(0, bytesRead));
        });
      });
      chunk.catch(() => undefined); // awaited below, or dropped when the reader stops early
      inFlight.push(chunk);
    };
    try {
      for (let i = 0; i < READ_AHEAD; i++) request();
      for (let at = 0; ;) {
        const chunk = await (inFlight.shift() as Promise<Buffer>);
        if (chunk.length === 0) return; // end of file
        yield chunk;
        at += chunk.length;
        if (chunk.length < READ_CHUNK) {
          // A short read (the end of the file, or the server's own limit): the requests made
          // past it are dropped and reading goes on from where it ended.
          await Promise.allSettled(inFlight.splice(0));
          next = at;
          for (let i = 0; i < READ_AHEAD; i++) request();
        } else request();
      }
    } finally {
      await Promise.allSettled(inFlight.splice(0));
      await this.closeHandle(handle);
    }
  }

  /** A fresh temporary name for `rel` in its directory's TEMP_DIR (made if missing). */
  private async tempFor(rel: string): Promise<string> {
    const dir = path.posix.join(path.posix.dirname(rel), TEMP_DIR);
    await this.ensureDir(dir);
    return path.posix.join(dir, `${path.posix.basename(rel)}.${randomBytes(6).toString("hex")}${PART}`);
  }

  /** mkdir -p below the root, each level created if missing. */
  private async ensureDir(rel: string): Promise<void> {
    if (await this.exists(rel)) return; // the common case: one round trip
    let at = "";
    for (const part of rel.split("/").filter((p) => p && p !== ".")) {
      at = at ? `${at}/${part}` : part;
      if (await this.exists(at)) continue;
      await this.run(`mkdir ${at}`, this.cfg.opTimeoutMs, (done) =>
        this.sftp.mkdir(this.abs(at), done),
      ).catch(async (err: unknown) => {
        if (!(await this.exists(at))) throw err; // another writer made it meanwhile: fine
      });
    }
  }

  /** fsync(2) on the server: a file opened "r+", a directory opened "r" (opendir handles are refused). */
  private async fsyncPath(rel: string, flags: "r" | "r+"): Promise<void> {
    const handle = await this.run<Buffer>(`open ${rel}`, this.cfg.opTimeoutMs, (done) =>
      this.sftp.open(this.abs(rel), flags, done),
    );
    try {
      await this.run(`fsync ${rel}`, this.cfg.opTimeoutMs, (done) =>
        this.sftp.ext_openssh_fsync(handle, done),
      );
    } finally {
      await this.closeHandle(handle);
    }
  }

  private async closeHandle(handle: Buffer): Promise<void> {
    if (!this.gone)
      await this.run("close", this.cfg.opTimeoutMs, (done) => this.sftp.close(handle, done)).catch(
        () => undefined,
      );
  }

  private transferDeadline(bytes: number): number {
    return this.cfg.transferBaseMs + Math.ceil((bytes / this.cfg.minBytesPerSecond) * 1000);
  }

  /**
   * Runs one SFTP call, settled by whichever comes first: its callback, the connection's end, or
   * the deadline. On a deadline the connection is ended, so a call ssh2 will never answer cannot
   * keep anything open.
   */
  private run<T = void>(
    what: string,
    deadlineMs: number,
    call: (done: (err?: Error | null, value?: T) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.gone) return reject(this.gone);
      let settled = false;
      const finish = (err: Error | undefined, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.onGone.delete(onGone);
        if (err) reject(err);
        else resolve(value as T);
      };
      const onGone = (err: Error) => finish(new StoreError("ConnectionLost", `${what}: ${err.message}`));
      const timer = setTimeout(() => {
        finish(new StoreError("Timeout", `${what}: no answer within ${deadlineMs} ms; connection ended`));
        this.close();
      }, deadlineMs);
      this.onGone.add(onGone);
      try {
        call((err, value) => finish(err ? toStoreError(what, err) : undefined, value));
      } catch (err) {
        finish(toStoreError(what, err as Error));
      }
    });
  }

  private rel(p: string): string {
    const norm = path.posix.normalize(p);
    if (path.posix.isAbsolute(norm) || norm === ".." || norm.startsWith("../") || norm.includes("\0"))
      throw new StoreError("InvalidPath", `${JSON.stringify(p)} is not a path inside the store`);
    return norm;
  }

  private abs(rel: string): string {
    return path.posix.join(this.cfg.root, rel);
  }
}

/** What `p` resolves to, or `fallback` when it fails with NotFound. */
export async function unlessNotFound<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof StoreError && err.code === "NotFound") return fallback;
    throw err;
  }
}

function toStoreError(what: string, err: Error): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as { code?: unknown }).code;
  const kind: StoreErrorCode = code === SFTP_NO_SUCH_FILE || code === "ENOENT" ? "NotFound" : "Failure";
  return new StoreError(kind, `${what}: ${err.message}`);
}

interface Digest {
  size: number;
  sha256: string;
}

/** Size and sha256 of everything `source` yields (a local file, or a remote one read back). */
async function digestOf(source: AsyncIterable<Buffer>): Promise<Digest> {
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of source) {
    size += chunk.length;
    hash.update(chunk);
  }
  return { size, sha256: hash.digest("hex") };
}
