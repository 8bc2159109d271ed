import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { silentLogger } from '../log.ts';
import { Fill } from './fill.ts';
import { ScriptedUpstream, gate, serveFile, type Responder } from '../../test/helpers/scripted-upstream.ts';
import { eventually, settle, sha256, track } from '../../test/helpers/fill-harness.ts';

function fillOf(data: Buffer, respond: Responder): Fill {
  const expected = { size: data.length, digests: [{ algo: 'sha256' as const, hex: sha256(data) }] };
  return new Fill({ key: 'k', upstream: new ScriptedUpstream(respond), sources: ['f'], expected }, new MemoryBlobStore(), silentLogger);
}

describe('TailReader', () => {
  it('reads a fill that has already committed, whole and as a range', async () => {
    const data = randomBytes(3 * 2 ** 20); // past the in-memory window, which is dropped at commit anyway
    const fill = fillOf(data, serveFile(data));
    await fill.done;
    expect((await track(fill.reader()).done).equals(data)).toBe(true);
    expect((await track(fill.reader(2 ** 20, 2 ** 20 + 9)).done).equals(data.subarray(2 ** 20, 2 ** 20 + 10))).toBe(true);
  });

  it('serves a reader created before upstream has answered', async () => {
    const data = randomBytes(1000);
    const answer = gate();
    const fill = fillOf(data, async (req) => { await answer.promise; return serveFile(data)(req); });
    const r = track(fill.reader());
    await settle();
    expect(r.bytes).toBe(0);
    expect(fill.state).toBe('starting');
    answer.open();
    expect((await r.done).equals(data)).toBe(true);
  });

  it('errors with the reason when the fill fails before any byte', async () => {
    const fill = fillOf(randomBytes(10), () => ({ status: 404 }));
    await expect(track(fill.reader()).done).rejects.toMatchObject({ code: 'UPSTREAM_NOT_FOUND' });
  });

  it('waits for a range that starts beyond what has arrived', async () => {
    const data = randomBytes(20_000);
    const paused = gate();
    const fill = fillOf(data, serveFile(data, { chunk: 1000, pauseAt: { offset: 1000, until: paused.promise } }));
    const r = track(fill.reader(5000, 5999));
    await eventually(() => fill.written === 1000, 'the first chunk');
    await settle();
    expect(r.bytes).toBe(0);
    paused.open();
    expect((await r.done).equals(data.subarray(5000, 6000))).toBe(true);
  });

  it('stops following the fill once destroyed', async () => {
    const data = randomBytes(20_000);
    const paused = gate();
    const fill = fillOf(data, serveFile(data, { pauseAt: { offset: 1000, until: paused.promise } }));
    const before = fill.listenerCount('progress');
    const reader = fill.reader();
    const r = track(reader);
    await eventually(() => r.bytes === 999, 'what has arrived, less the held-back byte');
    expect(fill.listenerCount('progress')).toBe(before + 1);
    reader.destroy();
    await eventually(() => fill.listenerCount('progress') === before, 'the listener to go');
    paused.open();
    await fill.done;
  });
});
