// Names for a user's profile (pure). User ids are e-mail addresses, not object names, and one
// user has one profile per store: the DesktopProfile's name is a readable, DNS-safe form of the
// user followed by a digest of (store, user), so two users whose readable forms collide, or one
// user on two stores, never share an object.
import { createHash } from "node:crypto";

export interface StoreLocation {
  readonly address: string;
  readonly path: string;
}

/** Readable part of a name: at most this long, so the whole stays far below 253. */
const READABLE_MAX = 40;
const LABEL_MAX = 63;

/** The DesktopProfile name for `user` on `store`, e.g. alice-at-example.com-5d41402abc. */
export function profileName(store: StoreLocation, user: string): string {
  const digest = createHash("sha256")
    .update(JSON.stringify([store.address, normalPath(store.path), user]))
    .digest("hex")
    .slice(0, 10);
  const readable = user
    .toLowerCase()
    .replace(/@/g, "-at-")
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/[-.]{2,}/g, "-")
    .slice(0, READABLE_MAX)
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  return readable ? `${readable}-${digest}` : `user-${digest}`;
}

/** The user as a label value ([A-Za-z0-9_.-], at most 63, alphanumeric at both ends), for selecting. */
export function userLabel(user: string): string {
  return user
    .replace(/@/g, "_at_")
    .replace(/[^A-Za-z0-9_.-]+/g, "_")
    .slice(0, LABEL_MAX)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

function normalPath(path: string): string {
  return path.replace(/\/+$/, "") || "";
}
