import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { BlobBody, GrowingBody, Reply, ReplyBody } from '../serve/reply.ts';
import { planResponse, type RequestMeta, type ResponsePlan } from './response-plan.ts';

const DATA = randomBytes(1000);
const SHA = createHash('sha256').update(DATA).digest('hex');
const MTIME = Date.parse('2024-05-01T10:00:00Z');

/** A blob body over DATA that records which ranges were opened. */
function blobBody(opened: Array<[number, number | undefined]> = []): BlobBody {
  return {
    kind: 'blob', sha256: SHA, size: DATA.length, mtimeMs: MTIME,
    open: (start, end) => { opened.push([start, end]); return Readable.from([DATA.subarray(start, end === undefined ? undefined : end + 1)]); },
  };
}

/** A download in progress: size and validators are only known once `answer()` is called. */
function growingBody(opts: { sized: boolean }): { body: GrowingBody; answer(): void; opened: Array<[number, number | undefined]> } {
  let answer!: () => void;
  let answered = false;
  const ready = new Promise<void>((r) => (answer = () => { answered = true; r(); }));
  const opened: Array<[number, number | undefined]> = [];
  const body: GrowingBody = {
    kind: 'growing', ready,
    get size() { return answered && opts.sized ? DATA.length : undefined; },
    get etag() { return `"${SHA}"`; },
    get lastModified() { return answered ? new Date(MTIME) : undefined; },
    done: ready.then(() => ({ sha256: SHA })),
    open: (start, end) => { opened.push([start, end]); return Readable.from([DATA.subarray(start, end === undefined ? undefined : end + 1)]); },
  };
  return { body, answer, opened };
}

const reply = (body: ReplyBody): Reply => ({ body, contentType: 'application/x-test', cacheControl: 'public' });
const get = (extra: Partial<RequestMeta> = {}): RequestMeta => ({ method: 'GET', ...extra });

async function bodyOf(plan: ResponsePlan): Promise<Buffer | undefined> {
  if (plan.body === undefined) return undefined;
  if (plan.body instanceof Uint8Array) return Buffer.from(plan.body);
  const parts: Buffer[] = [];
  for await (const c of plan.body()) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

describe('planResponse', () => {
  it('answers HEAD with the headers of GET and no body, without opening the blob', async () => {
    const opened: Array<[number, number | undefined]> = [];
    const plan = await planResponse({ method: 'HEAD' }, reply(blobBody(opened)));
    expect(plan.status).toBe(200);
    expect(plan.headers).toMatchObject({ 'content-length': '1000', etag: `"${SHA}"`, 'accept-ranges': 'bytes', 'last-modified': new Date(MTIME).toUTCString() });
    expect(plan.body).toBeUndefined();
    const ranged = await planResponse({ method: 'HEAD', range: 'bytes=0-9' }, reply(blobBody(opened)));
    expect(ranged.status).toBe(206);
    expect(ranged.body).toBeUndefined();
    expect(opened).toEqual([]);
  });

  it('sends a blob whole on a plain GET', async () => {
    const plan = await planResponse(get(), reply(blobBody()));
    expect(plan.status).toBe(200);
    expect(await bodyOf(plan)).toEqual(DATA);
  });

  it('sends in-memory bytes as one buffer (one write on the socket)', async () => {
    const plan = await planResponse(get(), reply({ kind: 'bytes', data: DATA, etag: `"${SHA}"` }));
    expect(plan.body).toBeInstanceOf(Uint8Array);
    expect(plan.headers['content-length']).toBe('1000');
  });

  it.each([
    ['a matching If-None-Match', { ifNoneMatch: `"${SHA}"` }, 304],
    ['a weak, listed If-None-Match', { ifNoneMatch: `"other", W/"${SHA}"` }, 304],
    ['If-None-Match: *', { ifNoneMatch: '*' }, 304],
    ['another etag', { ifNoneMatch: '"other"' }, 200],
    ['If-Modified-Since at Last-Modified', { ifModifiedSince: new Date(MTIME).toUTCString() }, 304],
    ['If-Modified-Since after it', { ifModifiedSince: new Date(MTIME + 60_000).toUTCString() }, 304],
    ['If-Modified-Since before it', { ifModifiedSince: new Date(MTIME - 1000).toUTCString() }, 200],
    ['an older If-Modified-Since beside a matching If-None-Match', { ifNoneMatch: `"${SHA}"`, ifModifiedSince: new Date(MTIME - 1000).toUTCString() }, 304],
  ] as const)('revalidates: %s gives %i', async (_, headers, status) => {
    const plan = await planResponse(get(headers), reply(blobBody()));
    expect(plan.status).toBe(status);
    if (status === 304) {
      expect(plan.body).toBeUndefined();
      expect(plan.headers['content-type']).toBeUndefined();
      expect(plan.headers.etag).toBe(`"${SHA}"`);
    }
  });

  it('answers a single range with 206 and exactly those bytes', async () => {
    const plan = await planResponse(get({ range: 'bytes=100-199' }), reply(blobBody()));
    expect(plan.status).toBe(206);
    expect(plan.headers).toMatchObject({ 'content-range': 'bytes 100-199/1000', 'content-length': '100' });
    expect(await bodyOf(plan)).toEqual(DATA.subarray(100, 200));
    const suffix = await planResponse(get({ range: 'bytes=-10' }), reply(blobBody()));
    expect(await bodyOf(suffix)).toEqual(DATA.subarray(990));
  });

  it('answers several ranges with 206 multipart/byteranges', async () => {
    const plan = await planResponse(get({ range: 'bytes=0-9,500-509' }), reply(blobBody()));
    expect(plan.status).toBe(206);
    const boundary = /^multipart\/byteranges; boundary=(\S+)$/.exec(plan.headers['content-type'] ?? '')?.[1];
    expect(boundary).toBeDefined();
    const body = (await bodyOf(plan))!;
    expect(body.length).toBe(Number(plan.headers['content-length']));
    const part = (start: number, end: number): Buffer => Buffer.concat([
      Buffer.from(`\r\n--${boundary}\r\nContent-Type: application/x-test\r\nContent-Range: bytes ${start}-${end}/1000\r\n\r\n`),
      DATA.subarray(start, end + 1),
    ]);
    expect(body).toEqual(Buffer.concat([part(0, 9), part(500, 509), Buffer.from(`\r\n--${boundary}--\r\n`)]));
  });

  it('range amplification (finding 9): 100 overlapping ranges get one 200 with the whole body, not 100 copies', async () => {
    const opened: Array<[number, number | undefined]> = [];
    const header = 'bytes=' + Array.from({ length: 100 }, () => '0-').join(',');
    const plan = await planResponse(get({ range: header }), reply(blobBody(opened)));
    expect(plan.status).toBe(200);
    expect(plan.headers['content-length']).toBe('1000');
    expect(plan.headers['content-range']).toBeUndefined();
    expect(await bodyOf(plan)).toEqual(DATA);
    expect(opened).toHaveLength(1);
  });

  it('range amplification (finding 9): overlapping ranges are coalesced into one part', async () => {
    const plan = await planResponse(get({ range: 'bytes=100-199,150-249' }), reply(blobBody()));
    expect(plan.status).toBe(206);
    expect(plan.headers).toMatchObject({ 'content-range': 'bytes 100-249/1000', 'content-length': '150' });
    expect(await bodyOf(plan)).toEqual(DATA.subarray(100, 250));
  });

  it('answers an unsatisfiable range with 416', async () => {
    const plan = await planResponse(get({ range: 'bytes=1000-' }), reply(blobBody()));
    expect(plan.status).toBe(416);
    expect(plan.headers).toMatchObject({ 'content-range': 'bytes */1000', 'content-length': '0' });
    expect(plan.body).toBeUndefined();
  });

  it('sends the whole body when If-Range does not match, the range when it does', async () => {
    const stale = await planResponse(get({ range: 'bytes=100-', ifRange: '"an-older-etag"' }), reply(blobBody()));
    expect(stale.status).toBe(200);
    expect(await bodyOf(stale)).toEqual(DATA);
    const byDate = await planResponse(get({ range: 'bytes=100-', ifRange: new Date(MTIME - 1000).toUTCString() }), reply(blobBody()));
    expect(byDate.status).toBe(200);
    const fresh = await planResponse(get({ range: 'bytes=100-', ifRange: `"${SHA}"` }), reply(blobBody()));
    expect(fresh.status).toBe(206);
    expect(await bodyOf(fresh)).toEqual(DATA.subarray(100));
  });

  it('plans a growing body once upstream has answered, and serves ranges of it', async () => {
    const g = growingBody({ sized: true });
    let planned = false;
    const pending = planResponse(get({ range: 'bytes=10-19' }), reply(g.body)).then((p) => { planned = true; return p; });
    await new Promise((r) => setTimeout(r, 20));
    expect(planned).toBe(false); // the size is not known yet
    g.answer();
    const plan = await pending;
    expect(plan.status).toBe(206);
    expect(plan.headers).toMatchObject({ 'content-range': 'bytes 10-19/1000', 'accept-ranges': 'bytes', etag: `"${SHA}"` });
    expect(await bodyOf(plan)).toEqual(DATA.subarray(10, 20));
    expect(g.opened).toEqual([[10, 19]]);
  });

  it('sends a growing body of unknown size whole, ignoring Range', async () => {
    const g = growingBody({ sized: false });
    g.answer();
    const plan = await planResponse(get({ range: 'bytes=10-19' }), reply(g.body));
    expect(plan.status).toBe(200);
    expect(plan.headers['content-length']).toBeUndefined();
    expect(plan.headers['accept-ranges']).toBeUndefined();
    expect(await bodyOf(plan)).toEqual(DATA);
    expect(g.opened).toEqual([[0, undefined]]);
  });
});
