import { RepointError } from '../errors.ts';

export const MAX_PATH_LENGTH = 4096;

export interface ParsedPath {
  /** Decoded segments; the first is the remote (or "-" for the proxy's own endpoints). */
  segments: string[];
  /** The request named a directory (trailing slash). */
  directory: boolean;
}

/**
 * Validates and decodes the raw request path. Anything that could escape the data dir or make
 * two spellings of one path is refused, before any lookup happens.
 */
export function parseRequestPath(raw: string): ParsedPath {
  const bad = (why: string): never => { throw new RepointError('BAD_PATH', `bad request path: ${why}`); };
  if (raw.length > MAX_PATH_LENGTH) bad(`longer than ${MAX_PATH_LENGTH} characters`);
  if (!raw.startsWith('/')) bad('must start with "/"');
  if (raw.includes('\\')) bad('backslash');
  if (/%(2f|5c|00)/i.test(raw)) bad('encoded slash, backslash or NUL');
  const directory = raw.endsWith('/');
  const rawSegments = raw.slice(1, directory ? -1 : undefined).split('/');
  if (raw === '/') return { segments: [], directory: true };
  // apt requests flat repositories ("deb http://host/path ./") as ".../path/./InRelease": "." is dropped
  const segments = rawSegments.filter((seg) => seg !== '.' && seg !== '%2e' && seg !== '%2E').map((seg) => {
    if (seg === '') bad('empty path segment ("//")');
    let dec: string;
    try {
      dec = decodeURIComponent(seg);
    } catch {
      return bad('invalid percent-encoding');
    }
    if (dec === '.' || dec === '..') bad('".." segment');
    if (/[\x00-\x1f\x7f]/.test(dec)) bad('control character');
    return dec;
  });
  return { segments, directory };
}
