import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { withHotCache } from '../blobs/hot-cache.ts';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { loadConfig } from '../config/load.ts';
import type { Config } from '../config/types.ts';
import { silentLogger } from '../log.ts';
import { ContentService } from '../serve/content.ts';
import { leaseNames } from '../state/keys.ts';
import { openMemoryState } from '../state/memory-state.ts';
import { loadOrCreateSigner, type Signer } from '../trust/signer.ts';
import { Catalogue } from './catalogue.ts';
import type { CheckpointSource, SnapshotContext } from './checkpoint-source.ts';
import { CheckpointService } from './checkpoint-service.ts';

let config: Config;
let signer: Signer;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-cp-service-'));
  const file = join(dir, 'mirror.yaml');
  await writeFile(file, [
    'state: { backend: sqlite, leaseTtl: "300ms", leaseRenewEvery: "50ms" }',
    'remotes:',
    `  deb: { upstream: "http://127.0.0.1:1", keyring: "${file}", checkpoints: { suites: [stable] } }`,
  ].join('\n'));
  config = loadConfig(file, {});
  signer = await loadOrCreateSigner(join(dir, 'mirror.asc'));
});

/** A snapshot that stores a file every 20 ms, `files` times, then returns; it can be paused on a promise. */
function slowSource(files: number, paused?: Promise<void>): CheckpointSource {
  return {
    async snapshot(ctx: SnapshotContext) {
      for (let i = 0; i < files; i++) {
        if (i === 1 && paused) await paused;
        await new Promise((r) => setTimeout(r, 20));
        ctx.onFile(`f${i}`, 1);
      }
      return { fields: { suites: [] } };
    },
    serveCheckpoint: () => Promise.reject(new Error('not used')),
  };
}

function service(source: CheckpointSource) {
  const state = openMemoryState();
  const content = new ContentService(withHotCache(new MemoryBlobStore()), state, silentLogger);
  const catalogue = new Catalogue(state, content.blobs);
  return { state, catalogue, svc: new CheckpointService(config, content, catalogue, signer, new Map([['deb', source]]), silentLogger, () => 'http://127.0.0.1:8080') };
}

describe('finding 7: checkpoint runs under a renewed lease', () => {
  it('outlives many lease terms while it works, and frees the lease after', async () => {
    const { svc, state, catalogue } = service(slowSource(40)); // ~800 ms: well over the 300 ms ttl
    const entry = await svc.create('deb');
    expect((await catalogue.list('deb')).map((e) => e.ts)).toEqual([entry.ts]);
    expect(await state.leases.holder(leaseNames.checkpoint('deb'))).toBeUndefined();
  });

  it('stops and publishes nothing when its lease is taken away mid-run', async () => {
    let resume!: () => void;
    const { svc, state, catalogue } = service(slowSource(10, new Promise<void>((r) => (resume = r))));
    const run = svc.create('deb');
    run.catch(() => {});
    const lease = leaseNames.checkpoint('deb');
    while (!(await state.leases.holder(lease))) await new Promise((r) => setTimeout(r, 5));
    // as if this process had stalled past the ttl and another node took over
    const held = (await state.leases.holder(lease))!;
    await state.leases.release(lease, held.token);
    expect(await state.leases.acquire(lease, 'another node', 10_000)).toBe(true);
    resume();
    await expect(run).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await catalogue.list('deb')).toEqual([]);
    expect((await state.leases.holder(lease))?.token).toBe('another node');
  });

  it('answers CHECKPOINT_RUNNING, naming the holder, while another process holds the lease', async () => {
    const { svc, state } = service(slowSource(1));
    await state.leases.acquire(leaseNames.checkpoint('deb'), 'f00 pid 7 on host-b', 10_000);
    await expect(svc.create('deb')).rejects.toMatchObject({ code: 'CHECKPOINT_RUNNING', message: expect.stringContaining('(pid 7 on host-b)') });
  });

  it('waits while a garbage collection holds the gc lease, then runs (its blobs are not pinned until published)', async () => {
    const source = slowSource(1);
    let snapshots = 0;
    const counting: CheckpointSource = { ...source, snapshot: (ctx) => { snapshots++; return source.snapshot(ctx); } };
    const { svc, state, catalogue } = service(counting);
    await state.leases.acquire(leaseNames.gc, 'gc-token pid 9 (repoint gc)', 10_000);
    const run = svc.create('deb');
    await new Promise((r) => setTimeout(r, 300));
    expect(snapshots).toBe(0);
    await state.leases.release(leaseNames.gc, 'gc-token pid 9 (repoint gc)');
    const entry = await run;
    expect(snapshots).toBe(1);
    expect((await catalogue.list('deb')).map((e) => e.ts)).toEqual([entry.ts]);
  });
});
