import { describe, expect, it } from 'vitest';
import { isRepointError } from '../../errors.ts';
import { multipartBoundary, multipartContentType, multipartParts } from './multipart.ts';

function assemble(file: Uint8Array, plan: ReturnType<typeof multipartParts>): Buffer {
  const pieces: Uint8Array[] = [];
  for (const p of plan.parts) pieces.push(p.header, file.subarray(p.start, p.end + 1));
  pieces.push(plan.trailer);
  return Buffer.concat(pieces);
}

/** Independent reader: split on the CRLF-prefixed delimiter as RFC 2046 defines it. */
function parseMultipart(body: Buffer, boundary: string): Array<{ headers: Record<string, string>; data: Buffer }> {
  const delim = Buffer.from(`\r\n--${boundary}`);
  // An empty preamble: prepend nothing if the body already starts with CRLF.
  const text = body.subarray(0, 2).toString() === '\r\n' ? body : Buffer.concat([Buffer.from('\r\n'), body]);
  const out: Array<{ headers: Record<string, string>; data: Buffer }> = [];
  let at = text.indexOf(delim);
  expect(at).toBe(0);
  for (;;) {
    const after = at + delim.length;
    if (text.subarray(after, after + 2).toString() === '--') {
      expect(text.subarray(after + 2).toString()).toBe('\r\n');
      return out;
    }
    expect(text.subarray(after, after + 2).toString()).toBe('\r\n');
    const headEnd = text.indexOf('\r\n\r\n', after + 2);
    const headers: Record<string, string> = {};
    for (const line of text.subarray(after + 2, headEnd).toString().split('\r\n')) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    const next = text.indexOf(delim, headEnd + 4);
    expect(next).toBeGreaterThan(0);
    out.push({ headers, data: text.subarray(headEnd + 4, next) });
    at = next;
  }
}

describe('multipart/byteranges', () => {
  const file = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31 + 7) & 0xff);
  // The file holds CRLFs and dashes so a naive parser would trip on them.
  file.set(new TextEncoder().encode('\r\n--\r\n\r\n'), 100);

  it('assembles to exactly totalLength and parses back to the requested ranges', () => {
    const boundary = multipartBoundary();
    const ranges = [
      { start: 0, end: 0 },
      { start: 95, end: 120 },
      { start: 4000, end: 4999 },
      { start: 10, end: 200 },
    ];
    const plan = multipartParts(ranges, file.length, 'application/x-rpm', boundary);
    const body = assemble(file, plan);
    expect(body.length).toBe(plan.totalLength);
    const parts = parseMultipart(body, boundary);
    expect(parts.length).toBe(ranges.length);
    parts.forEach((p, i) => {
      const r = ranges[i]!;
      expect(p.headers['content-type']).toBe('application/x-rpm');
      expect(p.headers['content-range']).toBe(`bytes ${r.start}-${r.end}/${file.length}`);
      expect(Buffer.compare(p.data, Buffer.from(file.subarray(r.start, r.end + 1)))).toBe(0);
    });
    expect(Buffer.from(plan.trailer).toString()).toBe(`\r\n--${boundary}--\r\n`);
    expect(Buffer.from(plan.parts[0]!.header).toString()).toBe(
      `\r\n--${boundary}\r\nContent-Type: application/x-rpm\r\nContent-Range: bytes 0-0/5000\r\n\r\n`,
    );
  });

  it('makes random boundaries of safe characters', () => {
    const a = multipartBoundary();
    const b = multipartBoundary();
    expect(a).toMatch(/^[0-9A-Za-z]{32}$/);
    expect(a).not.toBe(b);
    expect(multipartContentType(a)).toBe(`multipart/byteranges; boundary=${a}`);
  });

  it('refuses ranges outside the file, empty range lists and unsafe header values', () => {
    const bad: Array<() => unknown> = [
      () => multipartParts([{ start: 0, end: 5000 }], 5000, 'x/y', 'b'),
      () => multipartParts([{ start: 5, end: 4 }], 5000, 'x/y', 'b'),
      () => multipartParts([], 5000, 'x/y', 'b'),
      () => multipartParts([{ start: 0, end: 1 }], 5000, 'x/y\r\nSet-Cookie: a', 'b'),
      () => multipartParts([{ start: 0, end: 1 }], 5000, 'x/y', 'has space'),
    ];
    for (const f of bad) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(isRepointError(err, 'INTERNAL')).toBe(true);
    }
  });
});
