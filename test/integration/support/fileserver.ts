// The real profile file server the tests use: OpenSSH's SFTP server started by
// hack/fileserver-up.sh (hack/test-integration.sh exports its GRIDDESK_SFTP_* settings), and a way
// to cut its connections the way a crash or a network failure would.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { eventually } from "./cluster.js";
import { clients } from "./griddesk.js";
import { TEMP_DIR, type SftpStoreConfig } from "../../../src/profiles/sftp-store.js";

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run the tests through make test (hack/fileserver-up.sh)`);
  return value;
}

/** The store config for the test file server, rooted at `root` below its store directory. */
export function fileServerConfig(overrides: Partial<SftpStoreConfig> = {}): SftpStoreConfig {
  return {
    host: required("GRIDDESK_SFTP_HOST"),
    port: Number(required("GRIDDESK_SFTP_PORT")),
    username: required("GRIDDESK_SFTP_USER"),
    privateKey: readFileSync(required("GRIDDESK_SFTP_KEY")),
    hostKey: readFileSync(required("GRIDDESK_SFTP_HOST_KEY"), "utf8"),
    root: required("GRIDDESK_SFTP_ROOT"),
    ...overrides,
  };
}

/** The store's directory on this machine (the server is local), to look at what it holds. */
export const fileServerRoot = (): string => required("GRIDDESK_SFTP_ROOT");

/**
 * Sends `signal` to every process the SFTP server forked for its connections (all of them: call
 * it while only the connections concerned are open): SIGKILL cuts them as a crash would, SIGSTOP
 * hangs them as a frozen server would. OpenSSH forks one process tree per connection, which
 * outlives the listener, so signalling the listener would reach none; the listener stays up.
 */
export function signalServerConnections(signal: NodeJS.Signals): number[] {
  const listener = Number(readFileSync(required("GRIDDESK_SFTP_PIDFILE"), "utf8").trim());
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  const descends = (pid: number): boolean => {
    for (let p = parentOf.get(pid); p !== undefined && p > 1; p = parentOf.get(p))
      if (p === listener) return true;
    return false;
  };
  const pids = [...parentOf.keys()].filter(descends);
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
  return pids;
}

export const killServerConnections = (): number[] => signalServerConnections("SIGKILL");

/**
 * Waits until an upload into `dir` (a store directory on this machine) is under way: a partial
 * file in its temp directory has grown past `bytes`. Polls often: the upload must be caught in flight.
 */
export function uploadUnderWay(dir: string, bytes: number, timeoutMs = 60_000): Promise<unknown> {
  const tmp = path.join(dir, TEMP_DIR);
  return eventually(
    `an upload into ${dir} under way`,
    () => existsSync(tmp) && readdirSync(tmp).some((f) => statSync(path.join(tmp, f)).size > bytes),
    timeoutMs,
    20,
  );
}

/** A Secret with the test file server's credentials, as an admin gives a pool its store's. */
export async function createStoreSecret(namespace: string, name: string): Promise<void> {
  await clients().rest.request({
    method: "POST",
    path: `/api/v1/namespaces/${namespace}/secrets`,
    body: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name },
      data: {
        username: Buffer.from(required("GRIDDESK_SFTP_USER")).toString("base64"),
        "ssh-privatekey": readFileSync(required("GRIDDESK_SFTP_KEY")).toString("base64"),
        "ssh-hostkey": readFileSync(required("GRIDDESK_SFTP_HOST_KEY")).toString("base64"),
      },
    },
  });
}
