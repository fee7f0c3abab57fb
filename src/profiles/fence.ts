// One writer per profile, fenced at the store: a writer's epoch is made known to the store before
// it publishes anything, and what the store holds decides whose head counts, not a comparison
// inside one process. The controller grants epochs (a resourceVersion-checked write on the
// profile object, issue 21 milestone 2); this module is the store's side.
//
// Layout of one profile's directory P:
//   P/epochs/epoch-000000000007   published once (hardlink) by the writer of epoch 7 before it
//                                 writes anything; holds the head as it was when it took over
//   P/heads/head-000000000007.json   epoch 7's head, swapped in (posix-rename) by that writer only
//   P/versions/…                  immutable versions (published once; not this module's business)
//
// The head of a profile is that of the highest epoch marker M: heads/head-M.json if M's writer has
// published one, else the head M's marker carried over. A stale writer N < M can still write
// heads/head-N.json (an SFTP server has no compare-and-swap), but nobody reads it any more: its
// publish is refused by what is on the store. The writer checks before it publishes (to refuse
// early) and after (to report a publish that a newer epoch overtook).
import path from "node:path";
import { StoreError, unlessNotFound, type SftpStore } from "./sftp-store.js";

/** A profile's head: the version files of its chain, oldest first (empty: a first logon). */
export interface Head {
  chain: string[];
}

/** What an epoch marker holds: who took over, and the head as it was then. */
interface Marker {
  epoch: number;
  head: Head;
}

export class StaleEpochError extends Error {
  constructor(
    readonly epoch: number,
    readonly newest: number,
    what: string,
  ) {
    super(
      newest > epoch
        ? `${what}: epoch ${epoch} is stale, the store knows epoch ${newest}`
        : newest === epoch
          ? `${what}: epoch ${epoch} is already claimed on the store`
          : `${what}: epoch ${epoch} was never claimed on the store (its newest is ${newest})`,
    );
    this.name = "StaleEpochError";
  }
}

const EPOCHS = "epochs";
const HEADS = "heads";
const EMPTY: Head = { chain: [] };

/** Epoch numbers are zero-padded so that names sort as numbers do. */
export const markerName = (epoch: number): string => `epoch-${String(epoch).padStart(12, "0")}`;
export const headName = (epoch: number): string => `head-${String(epoch).padStart(12, "0")}.json`;

/** The highest epoch among marker file names (0: none). Names that are not markers are ignored. */
export function newestEpoch(names: readonly string[]): number {
  let newest = 0;
  for (const name of names) {
    const m = /^epoch-(\d{12})$/.exec(name);
    if (m) newest = Math.max(newest, Number(m[1]));
  }
  return newest;
}

function parseHead(value: unknown, where: string): Head {
  const doc = (value ?? {}) as Partial<Head>;
  if (!Array.isArray(doc.chain) || !doc.chain.every((v) => typeof v === "string"))
    throw new StoreError("Failure", `${where} is not a profile head ({"chain": [...]})`);
  return { chain: doc.chain };
}

export class ProfileFence {
  constructor(
    private readonly store: SftpStore,
    /** The profile's directory, relative to the store's root. */
    private readonly dir: string,
  ) {}

  /** The highest epoch the store knows for this profile (0: none yet). */
  async newestEpoch(): Promise<number> {
    return newestEpoch((await this.store.list(path.posix.join(this.dir, EPOCHS))).map((e) => e.name));
  }

  /** The head that counts: that of the highest epoch marker. */
  async readHead(): Promise<{ epoch: number; head: Head }> {
    const epoch = await this.newestEpoch();
    if (epoch === 0) return { epoch, head: EMPTY };
    const published = path.posix.join(this.dir, HEADS, headName(epoch));
    const doc = await unlessNotFound(this.readJson(published), undefined);
    if (doc !== undefined) return { epoch, head: parseHead(doc, published) };
    const marker = path.posix.join(this.dir, EPOCHS, markerName(epoch));
    return {
      epoch,
      head: parseHead(((await this.readJson(marker)) as Partial<Marker>).head ?? EMPTY, marker),
    };
  }

  private async readJson(rel: string): Promise<unknown> {
    return JSON.parse((await this.store.read(rel)).toString("utf8"));
  }

  /**
   * Makes `epoch` known to the store before its writer publishes anything: publishes its marker
   * once, carrying the head as it is now. Refused (StaleEpochError) when the store already knows
   * this epoch or a newer one. Returns the head the writer starts from.
   */
  async claim(epoch: number): Promise<Head> {
    const { epoch: newest, head } = await this.readHead();
    if (newest >= epoch) throw new StaleEpochError(epoch, newest, "claiming the profile");
    const marker = path.posix.join(this.dir, EPOCHS, markerName(epoch));
    const body: Marker = { epoch, head };
    const upload = await this.store.put(marker, Buffer.from(JSON.stringify(body)));
    await this.store.verify(upload);
    try {
      await this.store.publishOnce(upload, marker);
    } catch (err) {
      if (err instanceof StoreError && err.code === "Exists")
        throw new StaleEpochError(epoch, await this.newestEpoch(), "claiming the profile");
      throw err;
    }
    const after = await this.newestEpoch();
    if (after > epoch) throw new StaleEpochError(epoch, after, "claiming the profile");
    return head;
  }

  /**
   * Publishes `head` as epoch `epoch`'s: refused before writing when the store knows a newer
   * epoch, and reported after writing when one appeared meanwhile (then nobody reads it).
   */
  async publish(epoch: number, head: Head): Promise<void> {
    const before = await this.newestEpoch();
    if (before !== epoch) throw new StaleEpochError(epoch, before, "publishing the head");
    await this.store.swap(
      path.posix.join(this.dir, HEADS, headName(epoch)),
      Buffer.from(JSON.stringify(head)),
    );
    const after = await this.newestEpoch();
    if (after !== epoch) throw new StaleEpochError(epoch, after, "publishing the head (overtaken meanwhile)");
  }
}
