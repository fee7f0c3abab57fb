// A profile's versions on the store: their names, their order, and the chain each one needs to
// open (each version's qcow2 header names the version it is backed by, by a relative name).
import path from "node:path";
import { backingFileName, QCOW2_HEADER_BYTES } from "../volumes/index.js";
import type { SftpStore } from "./sftp-store.js";

/** The versions' directory in a profile's directory on the store. */
export const VERSIONS = "versions";

/**
 * A saved version: its place in the profile's lineage (the number of saves it holds; it keeps
 * counting across compactions) and the epoch of the lock that wrote it, which keeps two writers'
 * names apart.
 */
export function versionName(position: number, epoch: number): string {
  return `v${String(position).padStart(6, "0")}-e${epoch}.qcow2`;
}

/** A compacted base: the lineage of `position` saves merged into one file by the writer of `epoch`. */
export function compactedName(position: number, epoch: number): string {
  return `c${String(position).padStart(6, "0")}-e${epoch}.qcow2`;
}

export interface ParsedVersion {
  readonly position: number;
  readonly epoch: number;
  /** A compacted base (same content as the saved version of its position and epoch). */
  readonly compacted: boolean;
}

const NAME = /^([vc])(\d{6})-e(\d{1,15})\.qcow2$/;

/** What a version's name says, or undefined for a name that is not a version's. */
export function parseVersionName(name: string): ParsedVersion | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return { compacted: m[1] === "c", position: Number(m[2]), epoch: Number(m[3]) };
}

/**
 * Creation order (oldest first): by epoch (one writer at a time, each newer than the last),
 * then by place in the lineage, a saved version before the base compacted from it.
 */
export function compareVersions(a: string, b: string): number {
  const x = parseVersionName(a);
  const y = parseVersionName(b);
  if (!x || !y) return a < b ? -1 : a > b ? 1 : 0;
  return x.epoch - y.epoch || x.position - y.position || Number(x.compacted) - Number(y.compacted);
}

/** The lineage position of a chain's top (0 for an empty chain): the next save is one more. */
export function lineagePosition(chain: readonly string[]): number {
  const top = chain[chain.length - 1];
  if (top === undefined) return 0;
  return parseVersionName(top)?.position ?? chain.length;
}

/** Each version's backing version (undefined: it stands alone). */
export type Backings = ReadonlyMap<string, string | undefined>;

/** The chain that opens `name`, oldest first; undefined when a link is missing (or loops). */
export function chainOf(backings: Backings, name: string): string[] | undefined {
  const chain: string[] = [];
  for (let at: string | undefined = name; at !== undefined; at = backings.get(at)) {
    if (!backings.has(at) || chain.includes(at)) return undefined;
    chain.unshift(at);
  }
  return chain;
}

/** The versions on the store: each one's backing (one header read each) and size, from one listing. */
export async function readVersions(
  store: SftpStore,
  profileDir: string,
): Promise<{ backings: Map<string, string | undefined>; sizes: Map<string, number> }> {
  const dir = path.posix.join(profileDir, VERSIONS);
  const backings = new Map<string, string | undefined>();
  const sizes = new Map<string, number>();
  for (const entry of await store.list(dir)) {
    if (entry.isDirectory || !parseVersionName(entry.name)) continue;
    const header = await store.readStart(path.posix.join(dir, entry.name), QCOW2_HEADER_BYTES);
    backings.set(entry.name, backingFileName(header));
    sizes.set(entry.name, entry.size);
  }
  return { backings, sizes };
}

/** The chain that opens `name` as the store has it, or undefined when a link is missing. */
export async function chainOnStore(
  store: SftpStore,
  profileDir: string,
  name: string,
): Promise<string[] | undefined> {
  return chainOf((await readVersions(store, profileDir)).backings, name);
}
