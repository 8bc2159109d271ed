import { open, rename, writeFile } from 'node:fs/promises';
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

/** Write-to-temp, fsync, rename, fsync dir: readers see the old or the new file, never a torn one. */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data, { flush: true });
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

export function errCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}
