// Static users for labs and tests: a file of names, password hashes and groups, read at start.
// Hashes are scrypt (node:crypto) in the form scrypt$N$r$p$salt$hash (base64url), made with
// `griddesk hash-password`; the file never holds a password. Checking an unknown name costs the
// same as a known one, so timing does not tell which names exist.
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";
import yaml from "js-yaml";
import type { Identity } from "./signin.js";

const scryptAsync = promisify(scrypt) as (
  password: string,
  salt: Buffer,
  keylen: number,
  opts: { N: number; r: number; p: number; maxmem: number },
) => Promise<Buffer>;

const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;
const HASH_PATTERN = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/;

interface StaticUser {
  readonly name: string;
  readonly passwordHash: string;
  readonly groups: readonly string[];
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LENGTH, { ...PARAMS, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${salt.toString("base64url")}$${hash.toString("base64url")}`;
}

async function matches(password: string, stored: string): Promise<boolean> {
  const m = HASH_PATTERN.exec(stored);
  if (!m) return false;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const expected = Buffer.from(m[5] as string, "base64url");
  const actual = await scryptAsync(password, Buffer.from(m[4] as string, "base64url"), expected.length, {
    N,
    r,
    p,
    maxmem: 256 * N * r + 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export class StaticUsers {
  private readonly byName: Map<string, StaticUser>;
  /** Checked against for unknown names, so both cost one scrypt. */
  private readonly decoy: Promise<string> = hashPassword(randomBytes(12).toString("hex"));

  constructor(users: readonly StaticUser[]) {
    this.byName = new Map(users.map((u) => [u.name, u]));
  }

  /** The file's users; throws naming the entry and field that is wrong. */
  static load(file: string): StaticUsers {
    const doc = yaml.load(readFileSync(file, "utf8")) as { users?: unknown } | undefined;
    if (!doc || !Array.isArray(doc.users)) throw new Error(`${file}: expected a list under "users"`);
    const users = doc.users.map((u: unknown, i: number): StaticUser => {
      const at = `${file}: users[${i}]`;
      const o = (u ?? {}) as Record<string, unknown>;
      if (typeof o.name !== "string" || o.name === "")
        throw new Error(`${at}.name must be a non-empty string`);
      if (typeof o.passwordHash !== "string" || !HASH_PATTERN.test(o.passwordHash))
        throw new Error(
          `${at}.passwordHash must be a hash made by \`griddesk hash-password\` (scrypt$N$r$p$salt$hash)`,
        );
      const groups = o.groups ?? [];
      if (!Array.isArray(groups) || groups.some((g) => typeof g !== "string" || g === ""))
        throw new Error(`${at}.groups must be a list of non-empty strings`);
      return { name: o.name, passwordHash: o.passwordHash, groups: groups as string[] };
    });
    return new StaticUsers(users);
  }

  /** The identity for a right name and password, else undefined. */
  async signIn(name: string, password: string): Promise<Identity | undefined> {
    const user = this.byName.get(name);
    const ok = await matches(password, user?.passwordHash ?? (await this.decoy));
    return ok && user ? { user: user.name, groups: user.groups } : undefined;
  }
}
