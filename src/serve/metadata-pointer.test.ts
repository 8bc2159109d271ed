import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RepointError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { gate, ScriptedUpstream, type ScriptedResponse } from '../../test/helpers/scripted-upstream.ts';
import { memoryWorld, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { MetadataPointer, type PointerRecord, type PointerType } from './metadata-pointer.ts';

/** A record naming two blobs: the served file and a "signature" stored with it. */
interface TestRecord extends PointerRecord {
  sha256: string;
  sigSha256: string;
}

const TTL = 60_000;
const LM = 'Mon, 01 Jan 2024 00:00:00 GMT';

describe('MetadataPointer', () => {
  let w: MemoryWorld;
  let upstream: ScriptedUpstream;
  /** What upstream publishes now; `refuse:` bodies are refused by accept(). */
  let published: { body: string; etag: string };
  let unusable: Set<string>;
  let pointer: MetadataPointer<TestRecord, string>;

  const type = (): PointerType<TestRecord, string> => ({
    key: (slot) => `test:pointer:${slot}`,
    path: (slot) => `${slot}/meta.txt`,
    maxBytes: 4096,
    blobsOf: (r) => [r.sha256, r.sigSha256],
    generationOf: (r) => r.sha256,
    usable: (r) => !unusable.has(r.sha256),
    async accept(_slot, raw) {
      if (raw.toString().startsWith('refuse:')) throw new RepointError('METADATA_ROLLBACK', 'refused by policy');
      const [blob, sig] = await Promise.all([w.content.storeBytes(raw), w.content.storeBytes(Buffer.from(`sig of ${raw.toString()}`))]);
      return { sha256: blob.sha256, sigSha256: sig.sha256 };
    },
  });
  const make = (historyLength?: number): MetadataPointer<TestRecord, string> =>
    new MetadataPointer(type(), { state: w.state, blobs: w.blobs, upstream, log: silentLogger, ttlMs: TTL, ...(historyLength ? { historyLength } : {}) });
  const publish = (body: string): void => { published = { body, etag: `"${body}"` }; };
  const answer = (req: { headers?: Record<string, string> }): ScriptedResponse =>
    req.headers?.['if-none-match'] === published.etag
      ? { status: 304 }
      : { status: 200, headers: { etag: published.etag, 'last-modified': LM }, body: [Buffer.from(published.body)] };
  const later = (ms = TTL + 1): void => { vi.setSystemTime(Date.now() + ms); };

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    w = memoryWorld();
    unusable = new Set();
    publish('generation 1');
    upstream = new ScriptedUpstream(answer);
    pointer = make();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('serves a record within its TTL without upstream, and revalidates it after the TTL', async () => {
    const first = await pointer.fresh('a');
    expect(upstream.requests.map((r) => r.path)).toEqual(['a/meta.txt']);
    later(TTL - 1000);
    expect((await pointer.fresh('a')).record).toEqual(first.record);
    expect(upstream.requests).toHaveLength(1);
    later(2000);
    await pointer.fresh('a');
    expect(upstream.requests).toHaveLength(2);
    await pointer.fresh('a', { force: true });
    expect(upstream.requests).toHaveLength(3);
  });

  it('sends conditional headers only while every blob the record names is stored', async () => {
    const { record } = await pointer.fresh('a');
    expect(upstream.requests[0]?.headers).toEqual({});
    later();
    await pointer.fresh('a');
    expect(upstream.requests[1]?.headers).toEqual({ 'if-none-match': '"generation 1"', 'if-modified-since': LM });
    await w.blobs.delete(record.sigSha256);
    later();
    const repaired = await pointer.fresh('a');
    expect(upstream.requests[2]?.headers).toEqual({});
    expect(await w.blobs.stat(repaired.record.sigSha256)).toBeDefined();
  });

  it('keeps the record on a 304 and bumps its fetchedAt, without a change event', async () => {
    const changes: string[] = [];
    pointer.onChange((_slot, r) => changes.push(r.sha256));
    const first = (await pointer.fresh('a')).record;
    later();
    const again = await pointer.fresh('a');
    expect(upstream.requests).toHaveLength(2);
    expect(again.stale).toBeUndefined();
    expect(again.record).toEqual({ ...first, fetchedAt: Date.now() });
    expect(again.record.fetchedAt).toBeGreaterThan(first.fetchedAt);
    expect(await pointer.record('a')).toEqual(again.record);
    expect(changes).toEqual([first.sha256]);
  });

  it('moves the previous generation into a bounded history when a new one is verified', async () => {
    pointer = make(2);
    const gens: string[] = [];
    for (const n of [1, 2, 3, 4]) {
      publish(`generation ${n}`);
      gens.push((await pointer.fresh('a', { force: true })).record.sha256);
    }
    const rec = await pointer.record('a');
    expect(rec?.sha256).toBe(gens[3]);
    expect(rec?.history).toEqual([gens[2], gens[1]]);
    // an unchanged 200 (no validators matched) is no new generation
    published.etag = '"other etag, same bytes"';
    expect((await pointer.fresh('a', { force: true })).record.history).toEqual([gens[2], gens[1]]);
  });

  it('calls onChange listeners before fresh() resolves, only for a changed generation', async () => {
    const order: string[] = [];
    pointer.onChange((slot) => order.push(`changed ${slot}`));
    await pointer.fresh('a').then(() => order.push('resolved 1'));
    publish('generation 2');
    await pointer.fresh('a', { force: true }).then(() => order.push('resolved 2'));
    await pointer.fresh('a', { force: true }).then(() => order.push('resolved 3'));
    expect(order).toEqual(['changed a', 'resolved 1', 'changed a', 'resolved 2', 'resolved 3']);
  });

  it('serves the last verified record, marked stale with the code, when revalidation fails or is refused', async () => {
    const first = (await pointer.fresh('a')).record;
    later();
    upstream.queue(() => { throw new RepointError('UPSTREAM_UNAVAILABLE', 'all mirrors down'); });
    expect(await pointer.fresh('a')).toEqual({ record: first, stale: 'UPSTREAM_UNAVAILABLE' });
    publish('refuse: an older one');
    expect(await pointer.fresh('a')).toEqual({ record: first, stale: 'METADATA_ROLLBACK' });
    expect(await pointer.record('a')).toEqual(first);
  });

  it('throws when there is no record and upstream fails', async () => {
    upstream.queue(() => { throw new RepointError('UPSTREAM_UNAVAILABLE', 'all mirrors down'); });
    await expect(pointer.fresh('a')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    publish('refuse: bad');
    await expect(pointer.fresh('a')).rejects.toMatchObject({ code: 'METADATA_ROLLBACK' });
    expect(await pointer.record('a')).toBeUndefined();
  });

  it('serves the verified record stale when upstream says the file is gone (404): a mirror mid-sync', async () => {
    const { record } = await pointer.fresh('a');
    later();
    upstream.queue(() => ({ status: 404 }));
    expect(await pointer.fresh('a')).toEqual({ record, stale: 'UPSTREAM_NOT_FOUND' });
  });

  it('makes one upstream request for concurrent revalidations of a slot', async () => {
    const g = gate();
    upstream.queue(async (req) => { await g.promise; return answer(req); });
    const views = Array.from({ length: 5 }, () => pointer.fresh('a'));
    const other = pointer.fresh('b');
    await vi.waitFor(() => expect(upstream.requests).toHaveLength(2));
    g.open();
    const records = (await Promise.all(views)).map((v) => v.record);
    await other;
    expect(upstream.requests.map((r) => r.path).sort()).toEqual(['a/meta.txt', 'b/meta.txt']);
    expect(new Set(records.map((r) => JSON.stringify(r))).size).toBe(1);
  });

  it('serveable() fetches a record again when its blobs were deleted, even within the TTL', async () => {
    const first = (await pointer.fresh('a')).record;
    await w.blobs.delete(first.sha256);
    const view = await pointer.serveable('a');
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[1]?.headers).toEqual({});
    expect(view.record.sha256).toBe(first.sha256);
    expect(await w.blobs.stat(first.sha256)).toBeDefined();
    // intact: no request
    await pointer.serveable('a');
    expect(upstream.requests).toHaveLength(2);
  });

  it('serveable() without revalidation keeps the held record, even when due and upstream moved on', async () => {
    const first = (await pointer.fresh('a')).record;
    publish('generation 2');
    later();
    expect((await pointer.serveable('a', { revalidate: false })).record).toEqual(first);
    expect(upstream.requests).toHaveLength(1);
    expect((await pointer.serveable('a', { revalidate: true })).record.sha256).not.toBe(first.sha256);
  });

  it('serveable() fails when the blobs are gone and upstream cannot provide them', async () => {
    const first = (await pointer.fresh('a')).record;
    await w.blobs.delete(first.sigSha256);
    upstream.queue(() => { throw new RepointError('UPSTREAM_UNAVAILABLE', 'down'); });
    await expect(pointer.serveable('a')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it('ignores a stored record the type no longer finds usable', async () => {
    const first = (await pointer.fresh('a')).record;
    unusable.add(first.sha256);
    expect(await pointer.record('a')).toBeUndefined();
    const again = await pointer.fresh('a');
    expect(upstream.requests).toHaveLength(2);
    expect(upstream.requests[1]?.headers).toEqual({}); // nothing held: unconditional
    expect(again.record.sha256).toBe(first.sha256);
  });
});
