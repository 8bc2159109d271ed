import { join } from 'node:path';
import { RepointError } from '../errors.ts';
import type { ByteRange } from './blob-store.ts';

const SHA256_HEX = /^[0-9a-f]{64}$/;

export function isSha256Hex(s: string): boolean {
  return SHA256_HEX.test(s);
}

/** Every blob name comes from outside; this is what keeps it inside the store's directory. */
export function assertSha256Hex(s: string): void {
  if (!SHA256_HEX.test(s)) {
    throw new RepointError('BAD_PATH', `not a sha256 hex digest: ${JSON.stringify(s.slice(0, 80))}`);
  }
}

export function assertByteRange(range: ByteRange | undefined): void {
  if (range && !(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end) && range.start >= 0 && range.end >= range.start)) {
    throw new RepointError('BAD_RANGE', `invalid byte range ${range.start}-${range.end}`);
  }
}

/** `<root>/sha256/<ab>/<cd>/<hex>`: two fan-out levels keep directories small (≤256 entries each). */
export function blobPath(root: string, sha256: string): string {
  assertSha256Hex(sha256);
  return join(root, 'sha256', sha256.slice(0, 2), sha256.slice(2, 4), sha256);
}
