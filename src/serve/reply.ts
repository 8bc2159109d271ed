import type { Readable } from 'node:stream';
import type { Fill } from '../fill/fill.ts';

/** What serve/ hands to http/: a body source plus the headers only it can know. */
export type ReplyBody =
  | { kind: 'blob'; sha256: string; size: number; mtimeMs: number; path: string }
  | { kind: 'fill'; fill: Fill }
  | { kind: 'stream'; stream: Readable; size?: number; lastModified?: string; etag?: string }
  | { kind: 'bytes'; data: Uint8Array; lastModified?: Date; etag?: string; /** set when the bytes are a cached blob */ sha256?: string };

export interface Reply {
  status?: number;
  body: ReplyBody;
  contentType: string;
  cacheControl: string;
  headers?: Record<string, string>;
}

export const IMMUTABLE = 'public, max-age=31536000, immutable';

export function shortLived(ttlMs: number): string {
  return `public, max-age=${Math.max(0, Math.min(Math.floor(ttlMs / 1000), 300))}`;
}

const TYPES: Array<[RegExp, string]> = [
  [/\.deb$|\.udeb$/, 'application/vnd.debian.binary-package'],
  [/\.rpm$/, 'application/x-rpm'],
  [/(^|\/)(InRelease|Release)$/, 'text/plain; charset=utf-8'],
  [/\.gpg$|\.asc$|\.sig$/, 'application/pgp-signature'],
  [/\.xz$/, 'application/x-xz'],
  [/\.gz$/, 'application/gzip'],
  [/\.bz2$/, 'application/x-bzip2'],
  [/\.zst$/, 'application/zstd'],
  [/\.lzma$/, 'application/x-lzma'],
  [/\.xml$/, 'application/xml'],
  [/\.dsc$|\/Packages$|\/Sources$|\.diff$|\.txt$/, 'text/plain; charset=utf-8'],
  [/\.json$/, 'application/json'],
];

export function contentTypeFor(path: string): string {
  for (const [re, type] of TYPES) if (re.test(path)) return type;
  return 'application/octet-stream';
}
