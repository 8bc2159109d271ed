import { RepointError, isRepointError } from '../errors.ts';
import { errCode } from './fs-durable.ts';

/** errno codes that mean "no room left" (a full filesystem, or a quota). */
const FULL = new Set(['ENOSPC', 'EDQUOT']);
/** errno codes that mean the local store cannot be written at all. */
const BROKEN = new Set(['EIO', 'EROFS', 'EFBIG']);

/**
 * A local write failure as its own code (issue 8, finding 11): STORAGE_FULL or STORAGE_FAILED, never
 * mistaken for an upstream failure (a fill does not retry upstream over it) and answered 507/503 by
 * http/. Anything else (a RepointError, a bug) is returned as it is.
 */
export function storageError(err: unknown, what: string): unknown {
  if (isRepointError(err)) return err;
  const code = errCode(err);
  if (code !== undefined && FULL.has(code)) {
    return new RepointError('STORAGE_FULL', `local storage is full while ${what} (${code})`, { errno: code }, { cause: err });
  }
  if (code !== undefined && BROKEN.has(code)) {
    return new RepointError('STORAGE_FAILED', `local storage failed while ${what} (${code})`, { errno: code }, { cause: err });
  }
  return err;
}

/** Whether `err` is a local storage failure (full, or unwritable). */
export function isStorageError(err: unknown): err is RepointError {
  return isRepointError(err, 'STORAGE_FULL') || isRepointError(err, 'STORAGE_FAILED');
}
