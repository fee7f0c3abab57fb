// How a component reaches a profile store: the connection settings from the store's reference
// (address, path) and the Secret it names (username, ssh-privatekey, ssh-hostkey). Shared by the
// agent (check-out and check-in) and the controller (restore and erase). The Secret's bytes go
// into the connection only: never into a log line, an Event or a status.
import type { KubeObject, ObjectClient } from "../runtime/index.js";
import type { SftpStoreConfig } from "./sftp-store.js";
import { SftpStore } from "./sftp-store.js";

/** The Secret keys of a profile store's credentials (as in a kubernetes.io/ssh-auth Secret). */
export const SecretKeys = {
  username: "username",
  privateKey: "ssh-privatekey",
  hostKey: "ssh-hostkey",
} as const;

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

export interface StoreReference {
  readonly address: string;
  readonly path: string;
  readonly secretRef: { readonly name: string };
}

export class StoreConfigError extends Error {
  override readonly name = "StoreConfigError";
}

/** The connection settings for `store`, its Secret read from `namespace`. */
export async function storeConfig(
  secrets: ObjectClient<SecretObject>,
  namespace: string,
  store: StoreReference,
): Promise<SftpStoreConfig> {
  const where = `Secret ${namespace}/${store.secretRef.name}`;
  const secret = await secrets.get({ namespace, name: store.secretRef.name });
  const key = (k: string): Buffer => {
    const value = secret.data?.[k];
    if (!value)
      throw new StoreConfigError(`${where} has no key ${k} (needs ${Object.values(SecretKeys).join(", ")})`);
    return Buffer.from(value, "base64");
  };
  const url = new URL(store.address);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : 22,
    username: key(SecretKeys.username).toString("utf8").trim(),
    privateKey: key(SecretKeys.privateKey),
    hostKey: key(SecretKeys.hostKey).toString("utf8").trim(),
    root: store.path,
  };
}

/** Runs `fn` on a fresh connection to the store, closed after. */
export async function withStore<T>(
  secrets: ObjectClient<SecretObject>,
  namespace: string,
  store: StoreReference,
  fn: (store: SftpStore) => Promise<T>,
): Promise<T> {
  const connected = await SftpStore.connect(await storeConfig(secrets, namespace, store));
  try {
    return await fn(connected);
  } finally {
    connected.close();
  }
}

/** A profile's directory on its store: one per namespace and profile object. */
export const profileStoreDir = (namespace: string, profile: string): string => `${namespace}/${profile}`;
