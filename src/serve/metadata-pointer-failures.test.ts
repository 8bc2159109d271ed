import { describe, expect, it } from 'vitest';
import type { BlobWriter } from '../blobs/blob-store.ts';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { RepointError } from '../errors.ts';
import { silentLogger } from '../log.ts';
import { openMemoryState } from '../state/memory-state.ts';
import type { StateStore } from '../state/state-store.ts';
import { readCapped } from '../streams/read-capped.ts';
import type { Upstream } from '../upstream/upstream.ts';
import { ScriptedUpstream, gate, type ScriptedResponse } from '../../test/helpers/scripted-upstream.ts';
import { MetadataPointer, type PointerRecord, type PointerType } from './metadata-pointer.ts';

interface Rec extends PointerRecord {
  sha256: string;
}

const text = (s: string): Uint8Array => Buffer.from(s);
const ok = (body: string, lastModified = 'Mon, 01 Jan 2024 00:00:00 GMT'): ScriptedResponse => ({ status: 200, headers: { 'last-modified': lastModified }, body: [text(body)] });

/** A signed-metadata type in miniature: "SIGNED ..." verifies; with `sig`, a detached signature is fetched first. */
function type(blobs: MemoryBlobStore, upstream: Upstream, opts: { sig?: boolean } = {}): PointerType<Rec, string> {
  return {
    key: (slot) => `test:${slot}`,
    path: (slot) => `${slot}/InRelease`,
    maxBytes: 1 << 20,
    blobsOf: (r) => [r.sha256],
    generationOf: (r) => r.sha256,
    async accept(slot, raw, _res, _prev, signal) {
      if (opts.sig) {
        const res = await upstream.fetch({ path: `${slot}/Release.gpg`, signal });
        await readCapped(res.body, 1 << 20, 'sig');
      }
      if (!raw.toString().startsWith('SIGNED')) throw new RepointError('SIGNATURE_INVALID', 'bad signature');
      const w = await blobs.createWriter();
      try {
        await w.write(raw);
        return { sha256: (await w.commit()).sha256 };
      } catch (err) {
        await w.abort();
        throw err;
      }
    },
  };
}

/** A disk that fills up: every write fails the way fs does. */
class FullDisk extends MemoryBlobStore {
  full = false;
  override async createWriter(): Promise<BlobWriter> {
    const w = await super.createWriter();
    const full = (): boolean => this.full;
    return {
      get bytesWritten() { return w.bytesWritten; },
      write: async (c) => {
        if (full()) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return w.write(c);
      },
      openReader: () => w.openReader(),
      commit: (o) => w.commit(o),
      abort: () => w.abort(),
    };
  }
}

/** The memory state with set() switchable to a backend outage. */
function flakyState(): StateStore & { down: boolean } {
  const inner = openMemoryState();
  const s = {
    kind: 'memory', leases: inner.leases, down: false,
    get: <T>(k: string) => inner.get<T>(k),
    getMany: <T>(k: readonly string[]) => inner.getMany<T>(k),
    set: async (k: string, v: unknown, ttl?: number) => {
      if (s.down) throw new RepointError('STATE_UNAVAILABLE', 'state memory set failed: connection refused');
      return inner.set(k, v, ttl);
    },
    setMany: (e: Parameters<StateStore['setMany']>[0]) => inner.setMany(e),
    delete: (k: string) => inner.delete(k),
    keys: (p: string) => inner.keys(p),
    deletePrefix: (p: string) => inner.deletePrefix(p),
    close: () => inner.close(),
  };
  return s;
}

async function world(opts: { sig?: boolean; deadlineMs?: number } = {}) {
  const blobs = new FullDisk();
  const state = flakyState();
  const upstream = new ScriptedUpstream();
  const pointer = new MetadataPointer(type(blobs, upstream, opts), { state, blobs, upstream, log: silentLogger, ttlMs: 0, deadlineMs: opts.deadlineMs ?? 5000 });
  upstream.queue(() => ok('SIGNED v1'));
  if (opts.sig) upstream.queue(() => ok('sig'));
  const first = await pointer.fresh('dists/stable');
  expect(first.stale).toBeUndefined();
  return { blobs, state, upstream, pointer, v1: first.record };
}

describe('finding 3: every failed revalidation serves the last verified copy, with a reason', () => {
  it.each([
    ['connect failure', 'UPSTREAM_UNAVAILABLE', (): ScriptedResponse => { throw new RepointError('UPSTREAM_UNAVAILABLE', 'connect ECONNREFUSED'); }],
    ['an error status', 'UPSTREAM_BAD_STATUS', (): ScriptedResponse => { throw new RepointError('UPSTREAM_BAD_STATUS', 'upstream answered 403'); }],
    ['a 404 from every mirror', 'UPSTREAM_NOT_FOUND', (): ScriptedResponse => ({ status: 404 })],
    ['a body that breaks off', 'UPSTREAM_TRUNCATED', (): ScriptedResponse => ({ status: 200, body: [text('SIGNED v2 first half'), { break: 'read ECONNRESET' }] })],
    ['a refused file', 'SIGNATURE_INVALID', (): ScriptedResponse => ok('forged v2')],
  ])('%s → %s', async (_what, reason, answer) => {
    const { pointer, upstream, v1 } = await world();
    upstream.queue(answer);
    expect(await pointer.fresh('dists/stable')).toEqual({ record: v1, stale: reason });
    expect(await pointer.record('dists/stable')).toEqual(v1);
  });

  it('a body still trickling at the deadline → UPSTREAM_DEADLINE, and the late body never moves the pointer', async () => {
    const { pointer, upstream, v1 } = await world({ deadlineMs: 100 });
    const rest = gate();
    upstream.queue(() => ({ status: 200, body: [text('SIGNED v2 '), { until: rest.promise }, text('rest')] }));
    expect(await pointer.fresh('dists/stable')).toEqual({ record: v1, stale: 'UPSTREAM_DEADLINE' });
    expect(upstream.requests.at(-1)?.signal?.aborted, 'the fetch was told to stop').toBe(true);
    rest.open();
    await new Promise((r) => setTimeout(r, 50));
    expect(await pointer.record('dists/stable')).toEqual(v1);
  });

  it('the signature fetch inside accept runs under the same deadline', async () => {
    const { pointer, upstream, v1 } = await world({ sig: true, deadlineMs: 100 });
    upstream.queue(() => ok('SIGNED v2'));
    upstream.queue(() => new Promise<ScriptedResponse>(() => {})); // Release.gpg never answers
    expect(await pointer.fresh('dists/stable')).toEqual({ record: v1, stale: 'UPSTREAM_DEADLINE' });
    expect(upstream.requests.at(-1)?.path).toBe('dists/stable/Release.gpg');
    expect(upstream.requests.at(-1)?.signal?.aborted).toBe(true);
  });

  it('a full disk while storing the new copy → the old one, marked INTERNAL (the store\'s failure)', async () => {
    const { pointer, upstream, blobs, v1 } = await world();
    blobs.full = true;
    upstream.queue(() => ok('SIGNED v2'));
    expect(await pointer.fresh('dists/stable')).toEqual({ record: v1, stale: 'INTERNAL' });
    blobs.full = false;
    upstream.queue(() => ok('SIGNED v2', 'Tue, 02 Jan 2024 00:00:00 GMT'));
    const again = await pointer.fresh('dists/stable');
    expect(again.stale).toBeUndefined();
    expect(again.record.sha256).not.toBe(v1.sha256);
  });

  it('the state failing to record the new copy (or a 304) → STATE_UNAVAILABLE', async () => {
    const { pointer, upstream, state, v1 } = await world();
    state.down = true;
    upstream.queue(() => ok('SIGNED v2'));
    expect(await pointer.fresh('dists/stable')).toEqual({ record: v1, stale: 'STATE_UNAVAILABLE' });
    upstream.queue(() => ({ status: 304 }));
    expect(await pointer.fresh('dists/stable')).toEqual({ record: v1, stale: 'STATE_UNAVAILABLE' });
  });

  it('with nothing verified yet, the failure is the answer, with its own code (not INTERNAL)', async () => {
    const blobs = new FullDisk();
    const upstream = new ScriptedUpstream();
    const pointer = new MetadataPointer(type(blobs, upstream), { state: flakyState(), blobs, upstream, log: silentLogger, ttlMs: 0 });
    upstream.queue(() => ({ status: 200, body: [text('SIGNED'), { break: 'read ECONNRESET' }] }));
    await expect(pointer.fresh('d')).rejects.toMatchObject({ code: 'UPSTREAM_TRUNCATED' });
    upstream.queue(() => ({ status: 404 }));
    await expect(pointer.fresh('d')).rejects.toMatchObject({ code: 'UPSTREAM_NOT_FOUND' });
  });
});
