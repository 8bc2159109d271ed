import type { Readable } from 'node:stream';

/** A committed blob, streamed from the store. `end` is inclusive; undefined means to the end. */
export interface BlobBody {
  kind: 'blob';
  sha256: string;
  size: number;
  mtimeMs: number;
  open(start: number, end: number | undefined): Readable;
}

/**
 * A download in progress (a shared fill): readers start from what has arrived and then follow it.
 * A reader withholds the last byte (of the file, and of its range) until the digest has verified,
 * and errors when verification fails: the HTTP layer must then reset, never end the body cleanly.
 */
export interface GrowingBody {
  kind: 'growing';
  /** Resolves once upstream has answered: size, etag and lastModified are known from then on. */
  readonly ready: Promise<void>;
  readonly size: number | undefined;
  readonly etag: string | undefined;
  readonly lastModified: Date | undefined;
  /** The verified, committed blob; rejects when the download fails. */
  readonly done: Promise<{ sha256: string }>;
  open(start: number, end: number | undefined): Readable;
}

/** Bytes from elsewhere, passed through once (not rangeable). */
export interface StreamBody {
  kind: 'stream';
  stream: Readable;
  size?: number;
  lastModified?: string;
  etag?: string;
}

/** Bytes in memory, sent with one write. */
export interface BytesBody {
  kind: 'bytes';
  data: Uint8Array;
  lastModified?: Date;
  etag?: string;
  /** set when the bytes are a cached blob */
  sha256?: string;
}

/** What serve/ hands to http/: a body source plus the headers only it can know. */
export type ReplyBody = BlobBody | GrowingBody | StreamBody | BytesBody;

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
