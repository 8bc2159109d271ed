import { mkdir, stat } from 'node:fs/promises';
import { RepointError } from '../errors.ts';

const FIX = 'point dataDir (or REPOINT_DATA_DIR) at a directory repoint may write; it is created when missing';

/**
 * Checks `dataDir` before anything opens files under it, so a wrong value is a config error naming
 * the key and the fix instead of a stack trace from deep inside a store. With `create`, a missing
 * directory is made; read-only commands only check it.
 */
export async function prepareDataDir(dataDir: string, opts: { create: boolean }): Promise<void> {
  try {
    const st = await stat(dataDir);
    if (!st.isDirectory()) throw new RepointError('CONFIG_INVALID', `dataDir: ${dataDir} is not a directory; ${FIX}`);
    return;
  } catch (err) {
    if (err instanceof RepointError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new RepointError('CONFIG_INVALID', `dataDir: ${dataDir} lies under a file, not a directory; ${FIX}`);
    if (code !== 'ENOENT') throw new RepointError('CONFIG_INVALID', `dataDir: cannot use ${dataDir} (${code ?? (err as Error).message}); ${FIX}`);
  }
  if (!opts.create) return;
  try {
    await mkdir(dataDir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RepointError('CONFIG_INVALID', `dataDir: cannot create ${dataDir} (${code ?? (err as Error).message}); ${FIX}`);
  }
}
