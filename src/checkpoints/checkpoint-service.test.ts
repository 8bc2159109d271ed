import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Config } from '../config/types.ts';
import { RepointError } from '../errors.ts';
import { formatCheckpointTime } from '../formats/checkpoint-time.ts';
import { silentLogger } from '../log.ts';
import type { Reply } from '../serve/reply.ts';
import type { Signer } from '../trust/signer.ts';
import { configOf, memoryWorld, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { archiveKey } from '../../test/helpers/pgp-keys.ts';
import { gate, type Gate } from '../../test/helpers/scripted-upstream.ts';
import { Catalogue } from './catalogue.ts';
import { CheckpointService } from './checkpoint-service.ts';
import type { CheckpointSource, SnapshotContext, SnapshotResult } from './checkpoint-source.ts';

/** The service only reads the fingerprint; the fake source signs nothing. */
const signer: Signer = {
  fingerprint: 'F'.repeat(40), publicKeyArmored: '', publicKeyBinary: new Uint8Array(),
  clearsign: () => Promise.reject(new Error('not used')), detachSign: () => Promise.reject(new Error('not used')),
  detachSignArmored: () => Promise.reject(new Error('not used')),
};

/** A CheckpointSource in memory: stores two files, may wait on a gate, may fail, may move the clock. */
class FakeSource implements CheckpointSource {
  readonly contexts: SnapshotContext[] = [];
  hold: Gate | undefined;
  failure: Error | undefined;
  /** The clock when the snapshot is done (a snapshot takes time). */
  endsAt: number | undefined;
  packages: number | undefined;

  async snapshot(ctx: SnapshotContext): Promise<SnapshotResult> {
    this.contexts.push(ctx);
    const a = await ctx.content.storeBytes(Buffer.from(`file a ${this.contexts.length}`));
    ctx.onFile('a', a.size);
    ctx.onFile('b', 5);
    if (this.hold) await this.hold.promise;
    if (this.endsAt !== undefined) vi.setSystemTime(this.endsAt);
    if (this.failure) throw this.failure;
    return { fields: { suites: [{ dir: 'dists/stable', file: a.sha256 }] }, ...(this.packages !== undefined ? { packages: this.packages } : {}) };
  }

  serveCheckpoint(): Promise<Reply> {
    return Promise.reject(new Error('not used'));
  }
}

describe('CheckpointService', () => {
  let keyringPath: string;
  let w: MemoryWorld;
  let source: FakeSource;
  let catalogue: Catalogue;
  let service: CheckpointService;

  beforeAll(async () => {
    keyringPath = (await archiveKey()).keyringPath;
  });
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-05-01T10:00:00.250Z'));
    w = memoryWorld();
    source = new FakeSource();
    catalogue = new Catalogue(w.state, w.blobs);
    service = make(configOf({
      deb: { upstream: 'http://127.0.0.1:9/debian', keyring: keyringPath, checkpoints: { suites: ['stable'], keep: 2 } },
      plain: { upstream: 'http://127.0.0.1:9/plain', keyring: keyringPath },
      // the fake clock jumps minutes at a time: a lease must outlive the jumps
}, { publicUrl: 'http://127.0.0.1:8080', state: { backend: 'sqlite', leaseTtl: '1d', leaseRenewEvery: '1h' } }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  function make(config: Config): CheckpointService {
    return new CheckpointService(config, w.content, catalogue, signer, new Map([['deb', source], ['plain', source]]), silentLogger, () => 'http://127.0.0.1:8080');
  }

  it('publishes a manifest made of the type-free header and the source fields', async () => {
    source.packages = 7;
    const progress: number[] = [];
    const entry = await service.create('deb', { onProgress: (p) => progress.push(p.files) });
    expect(entry).toEqual({ ts: '20240501T100000Z', manifest: entry.manifest, createdAt: '2024-05-01T10:00:00.250Z', files: 2, bytes: 13 });
    expect(progress).toEqual([1, 2]);
    const m = await catalogue.manifest(entry.manifest);
    expect(m).toEqual({
      version: 1, remote: 'deb', type: 'apt', ts: entry.ts, createdAt: entry.createdAt, signer: signer.fingerprint,
      suites: [{ dir: 'dists/stable', file: expect.any(String) }], packages: 7,
    });
    expect(source.contexts[0]?.snapshotsUrl).toBe('http://127.0.0.1:8080/deb/@SNAPSHOTID@/');
    expect(source.contexts[0]?.previous).toBeUndefined();
    await service.create('deb');
    expect(source.contexts[1]?.previous).toEqual(m);
  });

  it('runs one checkpoint per remote at a time: a second caller joins the running one', async () => {
    source.hold = gate();
    const first = service.create('deb');
    const second = service.create('deb');
    source.hold.open();
    const [a, b] = await Promise.all([first, second]);
    expect(b).toEqual(a);
    expect(source.contexts).toHaveLength(1);
    expect(await catalogue.list('deb')).toHaveLength(1);
  });

  it('takes the timestamp at publication, unique even for two runs in one second', async () => {
    source.endsAt = Date.parse('2024-05-01T10:07:30.900Z');
    const first = await service.create('deb');
    expect(first.ts).toBe('20240501T100730Z');
    const second = await service.create('deb');
    expect(second.ts).toBe('20240501T100731Z');
    expect(second.ts > first.ts).toBe(true);
    source.endsAt = Date.parse('2024-05-01T09:00:00Z'); // the clock stepped back
    const third = await service.create('deb');
    expect(third.ts).toBe(formatCheckpointTime(new Date('2024-05-01T10:07:32Z')));
  });

  it('keeps the newest `keep` checkpoints', async () => {
    for (let i = 0; i < 3; i++) await service.create('deb');
    expect((await catalogue.list('deb')).map((e) => e.ts)).toEqual(['20240501T100001Z', '20240501T100002Z']);
  });

  it('publishes nothing when the snapshot fails, and releases the lock', async () => {
    await service.create('deb');
    const before = await catalogue.list('deb');
    const blobs = (await w.store.totals()).count;
    source.failure = new RepointError('UPSTREAM_UNAVAILABLE', 'mirror down');
    await expect(service.create('deb')).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    source.failure = new Error('disk on fire');
    await expect(service.create('deb')).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED', message: 'disk on fire' });
    expect(await catalogue.list('deb')).toEqual(before);
    // only the source's own files were stored: no manifest blob
    expect((await w.store.totals()).count).toBe(blobs + 2);
    source.failure = undefined;
    await service.create('deb');
    expect(await catalogue.list('deb')).toHaveLength(2);
  });

  it('refuses unknown remotes and remotes without checkpoints', async () => {
    // (create() throws these before it returns a promise; every caller awaits it in a try)
    const create = (name: string): Promise<unknown> => Promise.resolve().then(() => service.create(name));
    await expect(create('nope')).rejects.toMatchObject({ code: 'UNKNOWN_REMOTE' });
    await expect(create('plain')).rejects.toMatchObject({ code: 'CHECKPOINT_FAILED' });
    expect(source.contexts).toHaveLength(0);
  });
});
