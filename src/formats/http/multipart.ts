import { RepointError } from '../../errors.ts';
import { contentRange } from './range.ts';
import type { ByteRange } from './range.ts';

export interface MultipartPart {
  /** `\r\n--boundary\r\nContent-Type: …\r\nContent-Range: …\r\n\r\n`. */
  header: Uint8Array;
  /** Inclusive file offsets to send after the header. */
  start: number;
  end: number;
}

export interface MultipartPlan {
  /** Exact body length: every header + every range + the trailer. */
  totalLength: number;
  parts: MultipartPart[];
  /** `\r\n--boundary--\r\n`. */
  trailer: Uint8Array;
}

const BCHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** 32 random alphanumerics: no quoting needed, and a collision with file bytes is negligible. */
export function multipartBoundary(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = '';
  // 256 % 62 bias is irrelevant for a boundary; only unpredictability matters a little.
  for (const b of bytes) s += BCHARS[b % BCHARS.length];
  return s;
}

/** `multipart/byteranges; boundary=…` for the response's Content-Type. */
export function multipartContentType(boundary: string): string {
  return `multipart/byteranges; boundary=${boundary}`;
}

/**
 * Lays out a multipart/byteranges body (RFC 9110 §14.6) the way nginx does:
 * every part, the first included, starts with CRLF, so the body begins with an
 * empty preamble. The caller streams header, bytes start..end, …, then trailer.
 */
export function multipartParts(ranges: readonly ByteRange[], size: number, contentType: string, boundary: string): MultipartPlan {
  if (!/^[0-9A-Za-z'()+_,./:=?-]{1,70}$/.test(boundary)) {
    throw new RepointError('INTERNAL', 'multipart boundary has characters that need quoting or is too long');
  }
  if (ranges.length === 0) throw new RepointError('INTERNAL', 'multipart body needs at least one range');
  if (/[\r\n]/.test(contentType)) throw new RepointError('INTERNAL', 'content type contains a line break');
  const enc = new TextEncoder();
  let totalLength = 0;
  const parts = ranges.map(({ start, end }): MultipartPart => {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || start > end || end >= size) {
      throw new RepointError('INTERNAL', `range ${start}-${end} outside a ${size}-byte representation`);
    }
    const header = enc.encode(`\r\n--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRange(start, end, size)}\r\n\r\n`);
    totalLength += header.length + (end - start + 1);
    return { header, start, end };
  });
  const trailer = enc.encode(`\r\n--${boundary}--\r\n`);
  totalLength += trailer.length;
  return { totalLength, parts, trailer };
}
