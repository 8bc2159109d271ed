import { PassThrough, Readable } from 'node:stream';
import { formatHttpDate } from '../formats/http/http-date.ts';
import { multipartBoundary, multipartParts, multipartContentType } from '../formats/http/multipart.ts';
import { contentRange, ifRangeMatches, parseRange, unsatisfiedRange } from '../formats/http/range.ts';
import type { Reply, ReplyBody } from '../serve/reply.ts';

export interface RequestMeta {
  method: string;
  range?: string | undefined;
  ifRange?: string | undefined;
  ifNoneMatch?: string | undefined;
  ifModifiedSince?: string | undefined;
}

/** A response ready to send: status, headers and a body factory (streams are made only if sent). */
export interface ResponsePlan {
  status: number;
  headers: Record<string, string>;
  body: (() => Readable) | Uint8Array | undefined;
}

interface Resolved {
  size: number | undefined;
  etag: string | undefined;
  lastModified: Date | undefined;
  open: (start: number, end: number | undefined) => Readable;
  rangeable: boolean;
}

async function resolveBody(b: ReplyBody): Promise<Resolved> {
  switch (b.kind) {
    case 'blob':
      return { size: b.size, etag: `"${b.sha256}"`, lastModified: new Date(b.mtimeMs), rangeable: true, open: (start, end) => b.open(start, end) };
    case 'growing':
      await b.ready; // size and Last-Modified are known once upstream has answered
      return { size: b.size, etag: b.etag, lastModified: b.lastModified, rangeable: b.size !== undefined, open: (start, end) => b.open(start, end) };
    case 'stream':
      return {
        size: b.size, etag: b.etag, lastModified: b.lastModified ? new Date(b.lastModified) : undefined, rangeable: false,
        open: () => b.stream,
      };
    case 'bytes':
      return {
        size: b.data.length, etag: b.etag, lastModified: b.lastModified, rangeable: true,
        open: (start, end) => Readable.from([b.data.subarray(start, end === undefined ? undefined : end + 1)]),
      };
  }
}

function notModified(req: RequestMeta, etag: string | undefined, lastModified: Date | undefined): boolean {
  if (req.ifNoneMatch !== undefined) {
    if (!etag) return false;
    const tags = req.ifNoneMatch.split(',').map((t) => t.trim().replace(/^W\//, ''));
    return tags.includes('*') || tags.includes(etag);
  }
  if (req.ifModifiedSince !== undefined && lastModified) {
    const ims = Date.parse(req.ifModifiedSince);
    return !Number.isNaN(ims) && Math.floor(lastModified.getTime() / 1000) <= Math.floor(ims / 1000);
  }
  return false;
}

export async function planResponse(req: RequestMeta, reply: Reply): Promise<ResponsePlan> {
  const r = await resolveBody(reply.body);
  const headers: Record<string, string> = {
    'content-type': reply.contentType,
    'cache-control': reply.cacheControl,
    ...(r.etag ? { etag: r.etag } : {}),
    ...(r.lastModified ? { 'last-modified': formatHttpDate(r.lastModified) } : {}),
    ...(r.rangeable ? { 'accept-ranges': 'bytes' } : {}),
    ...reply.headers,
  };
  const head = req.method === 'HEAD';
  const dropBody = (): void => { if (reply.body.kind === 'stream') reply.body.stream.destroy(); };
  const status = reply.status ?? 200;

  if (status === 200 && notModified(req, r.etag, r.lastModified)) {
    dropBody();
    delete headers['content-type'];
    return { status: 304, headers, body: undefined };
  }
  const size = r.size;
  // An If-Range we cannot check (no validators) means "send it all", as does a malformed Range (RFC 9110).
  const ifRangeOk = req.ifRange === undefined || (r.etag !== undefined && r.lastModified !== undefined && ifRangeMatches(req.ifRange, r.etag, r.lastModified));
  if (status === 200 && r.rangeable && size !== undefined && req.range !== undefined && ifRangeOk) {
    const parsed = parseRange(req.range, size);
    if (parsed.kind === 'unsatisfiable') {
      dropBody();
      return { status: 416, headers: { ...headers, 'content-range': unsatisfiedRange(size), 'content-length': '0' }, body: undefined };
    }
    if (parsed.kind === 'ranges' && parsed.ranges.length === 1) {
      const { start, end } = parsed.ranges[0]!;
      headers['content-range'] = contentRange(start, end, size);
      headers['content-length'] = String(end - start + 1);
      return { status: 206, headers, body: head ? undefined : () => r.open(start, end) };
    }
    if (parsed.kind === 'ranges') {
      const boundary = multipartBoundary();
      const mp = multipartParts(parsed.ranges, size, reply.contentType, boundary);
      headers['content-type'] = multipartContentType(boundary);
      headers['content-length'] = String(mp.totalLength);
      return { status: 206, headers, body: head ? undefined : () => multipartStream(mp, r.open) };
    }
  }
  if (size !== undefined) headers['content-length'] = String(size);
  if (head) {
    dropBody();
    return { status, headers, body: undefined };
  }
  return { status, headers, body: reply.body.kind === 'bytes' ? reply.body.data : () => r.open(0, undefined) };
}

function multipartStream(mp: ReturnType<typeof multipartParts>, open: Resolved['open']): Readable {
  const out = new PassThrough({ highWaterMark: 256 * 1024 });
  (async () => {
    for (const part of mp.parts) {
      if (!out.write(part.header)) await new Promise((r) => out.once('drain', r));
      for await (const chunk of open(part.start, part.end) as AsyncIterable<Buffer>) {
        if (!out.write(chunk)) await new Promise((r) => out.once('drain', r));
      }
    }
    out.end(mp.trailer);
  })().catch((err: Error) => out.destroy(err));
  return out;
}
