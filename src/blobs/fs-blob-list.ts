import type { Dirent } from 'node:fs';
import { opendir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobInfo } from './blob-store.ts';
import { isSha256Hex } from './blob-paths.ts';
import { errCode } from './fs-durable.ts';

const FAN_OUT = /^[0-9a-f]{2}$/;

/** Walks the fan-out tree with opendir, one directory handle per level: memory stays bounded. */
export async function* listBlobs(dir: string): AsyncIterable<BlobInfo> {
  const root = join(dir, 'sha256');
  // a store opened read-only over a dataDir nothing has been written to yet has no tree
  for await (const ab of await opendirIfExists(root)) {
    if (ab.isDirectory() && FAN_OUT.test(ab.name)) yield* listPart(root, ab.name);
  }
}

/** Every blob under `<root>/<ab>/`. */
export async function* listPart(root: string, ab: string): AsyncIterable<BlobInfo> {
  for await (const cd of await opendirIfExists(join(root, ab))) {
    if (!cd.isDirectory() || !FAN_OUT.test(cd.name)) continue;
    const leaf = join(root, ab, cd.name);
    for await (const f of await opendirIfExists(leaf)) {
      if (!f.isFile() || !isSha256Hex(f.name) || !f.name.startsWith(ab + cd.name)) continue;
      try {
        const st = await stat(join(leaf, f.name));
        yield { sha256: f.name, size: st.size, mtimeMs: st.mtimeMs };
      } catch (err) {
        if (errCode(err) !== 'ENOENT') throw err; // deleted while we walked
      }
    }
  }
}

async function opendirIfExists(path: string): Promise<AsyncIterable<Dirent>> {
  try {
    return await opendir(path);
  } catch (err) {
    if (errCode(err) === 'ENOENT') return emptyDir();
    throw err;
  }
}

async function* emptyDir(): AsyncIterable<Dirent> {}

/** True when `dir` has no entry (or does not exist): a new store, whose totals need no walk. */
export async function isEmptyDir(dir: string): Promise<boolean> {
  try {
    const d = await opendir(dir);
    try {
      return (await d.read()) === null;
    } finally {
      await d.close();
    }
  } catch (err) {
    if (errCode(err) === 'ENOENT') return true;
    throw err;
  }
}
