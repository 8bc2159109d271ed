import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withHotCache } from '../blobs/hot-cache.ts';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { fillSpec } from '../fill/fill.ts';
import type { Expected } from '../formats/digests.ts';
import { silentLogger } from '../log.ts';
import { openSqliteState } from '../state/open-state.ts';
import type { StateStore } from '../state/state-store.ts';
import { ScriptedUpstream, gate, serveFile } from '../../test/helpers/scripted-upstream.ts';
import { sha256, sha512 } from '../../test/helpers/fill-harness.ts';
import { ContentService } from './content.ts';
import type { Reply } from './reply.ts';

const META = { contentType: 'application/octet-stream', cacheControl: 'public' };

async function readStream(r: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of r) parts.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(parts);
}

/** The bytes a reply would send (whole). */
async function bytesOf(reply: Reply): Promise<Buffer> {
  const b = reply.body;
  if (b.kind === 'bytes') return Buffer.from(b.data);
  if (b.kind === 'stream') return readStream(b.stream);
  if (b.kind === 'growing') await b.ready;
  return readStream(b.open(0, undefined));
}

describe('ContentService', () => {
  let dir: string;
  let state: StateStore;
  let store: MemoryBlobStore;
  let content: ContentService;
  let upstream: ScriptedUpstream;
  const files = new Map<string, Buffer>();
  const full = (data: Buffer): Expected => ({ size: data.length, digests: [{ algo: 'sha256', hex: sha256(data) }, { algo: 'sha512', hex: sha512(data) }] });
  const spec = (path: string, expected: Expected) => fillSpec('r', upstream, path, expected);

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'repoint-content-'));
    state = openSqliteState(join(dir, 'state.sqlite'));
    store = new MemoryBlobStore();
    content = new ContentService(withHotCache(store), state, silentLogger);
    files.clear();
    upstream = new ScriptedUpstream((req) => {
      const data = files.get(req.path);
      return data ? serveFile(data)(req) : { status: 404 };
    });
  });
  afterEach(async () => {
    await state.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('shares one download among concurrent misses, then serves hits without upstream', async () => {
    const small = randomBytes(5000);
    files.set('small.deb', small);
    const [a, b] = await Promise.all([content.serve(spec('small.deb', full(small)), META), content.serve(spec('small.deb', full(small)), META)]);
    expect([a.body.kind, b.body.kind]).toEqual(['growing', 'growing']);
    expect((await bytesOf(a)).equals(small)).toBe(true);
    expect((await bytesOf(b)).equals(small)).toBe(true);
    if (a.body.kind === 'growing') expect((await a.body.done).sha256).toBe(sha256(small));
    const hit = await content.serve(spec('small.deb', full(small)), META);
    expect(hit.body).toMatchObject({ kind: 'bytes', etag: `"${sha256(small)}"`, sha256: sha256(small) }); // small: from memory
    expect((await bytesOf(hit)).equals(small)).toBe(true);
    expect(upstream.requests).toHaveLength(1);
  });

  it('finding 4: a second remote\'s stalled upstream listing the same hash does not hold up the first remote\'s clients', async () => {
    const data = randomBytes(200_000);
    const stalled = gate();
    const hostile = new ScriptedUpstream(serveFile(data, { pauseAt: { offset: 10, until: stalled.promise } }), 'hostile');
    const good = new ScriptedUpstream(serveFile(data), 'good');
    const slow = await content.serve(fillSpec('evil', hostile, 'pool/p.deb', full(data)), META);
    if (slow.body.kind === 'growing') await slow.body.ready; // the hostile download is under way
    const mine = await content.serve(fillSpec('deb', good, 'pool/p.deb', full(data)), META);
    expect((await bytesOf(mine)).equals(data)).toBe(true);
    expect(good.requests).toHaveLength(1);
    stalled.open();
    expect((await bytesOf(slow)).equals(data)).toBe(true);
    expect(await store.totals()).toEqual({ count: 1, bytes: data.length }); // stored once
  });

  it('streams a large hit from the store', async () => {
    const big = randomBytes(2 ** 20 + 1);
    await store.createWriter().then(async (w) => { await w.write(big); return w.commit(); });
    const hit = await content.serve(spec('big.deb', full(big)), META);
    expect(hit.body).toMatchObject({ kind: 'blob', sha256: sha256(big), size: big.length });
    expect((await bytesOf(hit)).equals(big)).toBe(true);
    if (hit.body.kind === 'blob') expect((await readStream(hit.body.open(10, 19))).equals(big.subarray(10, 20))).toBe(true);
    expect(upstream.requests).toHaveLength(0);
  });

  it('does not take a stored blob of another size for a hit', async () => {
    const data = randomBytes(100);
    await content.storeBytes(data);
    files.set('f', data);
    const reply = await content.serve(spec('f', { ...full(data), size: 99 }), META);
    expect(reply.body.kind).toBe('growing');
  });

  it('ensure returns a stored blob at once and downloads a missing one', async () => {
    const data = randomBytes(3000);
    files.set('Packages.xz', data);
    expect((await content.ensure(spec('Packages.xz', full(data)))).sha256).toBe(sha256(data));
    expect(upstream.requests).toHaveLength(1);
    expect(await content.ensure(spec('Packages.xz', full(data)))).toMatchObject({ sha256: sha256(data), size: 3000 });
    expect(upstream.requests).toHaveLength(1);
    await expect(content.ensure(spec('missing', full(randomBytes(10))))).rejects.toMatchObject({ code: 'UPSTREAM_NOT_FOUND' });
  });

  it('finds a blob by a sha512 alias recorded when it was stored', async () => {
    const data = randomBytes(4000);
    files.set('a.rpm', data);
    await content.ensure(spec('a.rpm', full(data)));
    const sha512Only: Expected = { size: data.length, digests: [{ algo: 'sha512', hex: sha512(data) }] };
    expect(await content.findBlob(sha512Only)).toMatchObject({ sha256: sha256(data) });
    const hit = await content.serve(spec('elsewhere/a.rpm', sha512Only), META);
    expect(hit.body).toMatchObject({ kind: 'bytes', sha256: sha256(data) });
    expect(upstream.requests).toHaveLength(1);
    const unknown: Expected = { digests: [{ algo: 'sha512', hex: sha512(randomBytes(8)) }] };
    expect(await content.findBlob(unknown)).toBeUndefined();
  });

  it('passes uncovered paths through, marked unverified and not stored', async () => {
    const data = randomBytes(700);
    files.set('README', data);
    const reply = await content.passthrough(upstream, 'README', META);
    expect(reply.headers).toMatchObject({ 'x-repoint-verified': 'no' });
    expect(reply.body).toMatchObject({ kind: 'stream', size: 700 });
    expect((await bytesOf(reply)).equals(data)).toBe(true);
    expect(await store.totals()).toEqual({ count: 0, bytes: 0 });
    await expect(content.passthrough(upstream, 'nope', META)).rejects.toMatchObject({ code: 'UPSTREAM_NOT_FOUND' });
  });

  it('stores bytes already in memory, with their mtime', async () => {
    const text = Buffer.from('Origin: test\n');
    const mtime = new Date('2024-02-03T04:05:06Z');
    const info = await content.storeBytes(text, mtime);
    expect(info).toMatchObject({ sha256: sha256(text), size: text.length, mtimeMs: mtime.getTime() });
    const hot = await content.hit(info.sha256);
    expect(hot?.data?.equals(text)).toBe(true);
    expect(await store.readAll(info.sha256)).toEqual(text);
  });
});
