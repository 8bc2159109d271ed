import { randomBytes } from 'node:crypto';
import { link, open, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** fsync a directory so a rename or link inside it survives a power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Write-to-temp, fsync, rename, fsync dir: readers see the old or the new file, never a torn one.
 * The temp name is unique per call (several store instances of one process may write the same file
 * at once), and a failed write (a full disk) removes its temp file.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  try {
    // 'wx': never share a temp file with another writer
    await writeFile(tmp, data, { flush: true, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => {}); // ENOENT after a rename that went through, or nothing written
    throw err;
  }
  await fsyncDir(dirname(path));
}

export function errCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (err) {
    if (errCode(err) === 'ENOENT') return false;
    throw err;
  }
}

/**
 * link() never replaces an existing name, so two downloads of the same content race safely and
 * exactly one of them counts it. Filesystems without hard links fall back to rename.
 */
export async function linkInto(tempPath: string, target: string): Promise<boolean> {
  let fresh: boolean;
  try {
    await link(tempPath, target);
    fresh = true;
  } catch (err) {
    const code = errCode(err);
    if (code === 'EEXIST') fresh = false;
    else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EXDEV') {
      fresh = !(await pathExists(target));
      await rename(tempPath, target);
      return fresh;
    } else throw err;
  }
  await unlink(tempPath);
  return fresh;
}
