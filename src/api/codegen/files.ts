// Writing generated files to disk, and finding the ones on disk that are out of date.
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CRD_DIRS } from "./render.js";
import type { GeneratedFile } from "./render.js";

export type Staleness = "missing" | "outdated" | "unexpected";

export interface StaleFile {
  path: string;
  why: Staleness;
}

async function readOrUndefined(path: string): Promise<string | undefined> {
  return readFile(path, "utf8").catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw err;
  });
}

/** YAML files in the generated CRD directories that the generator would not write. */
async function strays(root: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const wanted = new Set(files.map((f) => f.path));
  const found: string[] = [];
  for (const dir of CRD_DIRS) {
    const names = await readdir(join(root, dir)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const path = `${dir}/${name}`;
      if (/\.ya?ml$/.test(name) && !wanted.has(path)) found.push(path);
    }
  }
  return found;
}

export async function findStale(root: string, files: readonly GeneratedFile[]): Promise<StaleFile[]> {
  const stale: StaleFile[] = [];
  for (const f of files) {
    const onDisk = await readOrUndefined(join(root, f.path));
    if (onDisk === undefined) stale.push({ path: f.path, why: "missing" });
    else if (onDisk !== f.content) stale.push({ path: f.path, why: "outdated" });
  }
  for (const path of await strays(root, files)) stale.push({ path, why: "unexpected" });
  return stale;
}

/** Writes the files that differ and removes stray CRD files; returns the paths changed. */
export async function writeGenerated(root: string, files: readonly GeneratedFile[]): Promise<string[]> {
  const stale = await findStale(root, files);
  const byPath = new Map(files.map((f) => [f.path, f]));
  for (const s of stale) {
    const target = join(root, s.path);
    const file = byPath.get(s.path);
    if (file === undefined) {
      await rm(target);
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, file.content);
  }
  return stale.map((s) => s.path);
}
