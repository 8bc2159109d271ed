import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { silentLogger } from '../log.ts';
import { RepointError } from '../errors.ts';
import { leaseHolder, tryAcquireLease } from '../state/lease.ts';
import { memoryLeases } from '../state/memory-state.ts';
import type { LeaseBackend } from '../state/state-store.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../upstream/upstream.ts';
import { ClusterUpstream, type PeerFetch } from './cluster-upstream.ts';

const timing = { ttlMs: 200, renewEveryMs: 50 };
const LEASE = 'fill:k';

function realUpstream(): Upstream & { calls: UpstreamRequest[] } {
  const calls: UpstreamRequest[] = [];
  return {
    bases: ['http://up'], id: 'up', calls,
    fetch: async (req) => { calls.push(req); return { status: 200, headers: {}, body: Readable.from([Buffer.from('real')]), url: 'http://up/x' }; },
  };
}

const peerResponse = (): UpstreamResponse => ({ status: 200, headers: {}, body: Readable.from([Buffer.from('peer')]), url: 'peer' });

function node(self: string, leases: LeaseBackend, peerFetch: PeerFetch, blobs = new MemoryBlobStore(), sha?: string) {
  const real = realUpstream();
  const up = new ClusterUpstream(real, 'k', LEASE, sha, { leases, blobs, timing, self, peerFetch, log: silentLogger });
  return { real, up };
}

const noPeer: PeerFetch = async () => { throw new Error('no peer expected'); };

describe('ClusterUpstream', () => {
  it('the first node takes the lease, naming itself, and fetches upstream; release frees it', async () => {
    const leases = memoryLeases();
    const a = node('http://a', leases, noPeer);
    const res = await a.up.fetch({ path: 'x' });
    expect(res.url).toBe('http://up/x');
    expect(a.up.leading).toBe(true);
    expect((await leaseHolder(leases, LEASE))?.owner).toBe('http://a');
    await a.up.release();
    expect(await leaseHolder(leases, LEASE)).toBeUndefined();
  });

  it('another node follows the holder through its internal endpoint, passing the Range on', async () => {
    const leases = memoryLeases();
    await node('http://a', leases, noPeer).up.fetch({ path: 'x' });
    const asked: Array<[string, string | undefined]> = [];
    const b = node('http://b', leases, async (leader, _key, req) => { asked.push([leader, req.headers?.range]); return peerResponse(); });
    expect((await b.up.fetch({ path: 'x', headers: { range: 'bytes=10-' } })).url).toBe('peer');
    expect(asked).toEqual([['http://a', 'bytes=10-']]);
    expect(b.real.calls).toHaveLength(0);
  });

  it('when the leader is unreachable, waits for its lease to lapse, then leads and resumes upstream', async () => {
    const leases = memoryLeases();
    // a crashed holder: nobody renews its lease, it lapses after ttlMs
    await leases.acquire(LEASE, 'dead-token http://dead', timing.ttlMs);
    expect((await leaseHolder(leases, LEASE))?.owner).toBe('http://dead');
    let tries = 0;
    const b = node('http://b', leases, async () => { tries++; throw new Error('ECONNREFUSED'); });
    const res = await b.up.fetch({ path: 'x', headers: { range: 'bytes=5-' } });
    expect(res.url).toBe('http://up/x');
    expect(b.real.calls.map((c) => c.headers?.range)).toEqual(['bytes=5-']);
    expect(tries).toBeGreaterThan(0);
    expect((await leaseHolder(leases, LEASE))?.owner).toBe('http://b');
    await b.up.release();
  });

  it('a leader alive (renewing) but unreachable for a whole lease term: the follower fetches upstream itself', async () => {
    const leases = memoryLeases();
    const alive = (await tryAcquireLease(leases, LEASE, { ...timing, owner: 'http://unreachable' }))!;
    let tries = 0;
    const b = node('http://b', leases, async () => { tries++; throw new Error('ECONNREFUSED'); });
    try {
      expect((await b.up.fetch({ path: 'x' })).url).toBe('http://up/x');
      expect(tries).toBeGreaterThan(1);
      expect((await leaseHolder(leases, LEASE))?.owner, 'the live leader keeps its lease').toBe('http://unreachable');
    } finally {
      await alive.release();
    }
  });

  it('a live leader whose lease lapsed in a stall takes it back: a follower electing next follows it, not upstream', async () => {
    const leases = memoryLeases();
    const a = node('http://a', leases, noPeer);
    await a.up.fetch({ path: 'x' });
    // a stall longer than ttlMs: the lease expired before the next renewal (memoryLeases drops it now)
    await leases.release(LEASE, (await leases.holder(LEASE))!.token);
    await expect.poll(async () => (await leaseHolder(leases, LEASE))?.owner, { timeout: 2000 }).toBe('http://a');
    expect(a.up.leading).toBe(true);
    const b = node('http://b', leases, async () => peerResponse());
    expect((await b.up.fetch({ path: 'x', headers: { range: 'bytes=3-' } })).url).toBe('peer');
    expect(b.real.calls).toHaveLength(0);
    await a.up.release();
    expect(await leaseHolder(leases, LEASE), 'released for good: not taken back').toBeUndefined();
  });

  it('a leader that refuses this node (another signing key) makes it fetch upstream at once', async () => {
    const leases = memoryLeases();
    await leases.acquire(LEASE, 't http://a', timing.ttlMs);
    const b = node('http://b', leases, async () => { throw new RepointError('UNAUTHORIZED', 'refused'); });
    expect((await b.up.fetch({ path: 'x' })).url).toBe('http://up/x');
  });

  it('a leader that has neither the fill nor the blob any more ("none") makes the follower elect again', async () => {
    const leases = memoryLeases();
    await leases.acquire(LEASE, 't http://a', timing.ttlMs);
    const b = node('http://b', leases, async () => { await leases.release(LEASE, 't http://a'); return 'none'; });
    expect((await b.up.fetch({ path: 'x' })).url).toBe('http://up/x');
    await b.up.release();
  });

  it('a node elected after the blob was stored copies it from the store, not from upstream', async () => {
    const blobs = new MemoryBlobStore();
    const w = await blobs.createWriter();
    await w.write(Buffer.from('stored'));
    const info = await w.commit();
    const a = node('http://a', memoryLeases(), noPeer, blobs, info.sha256);
    const res = await a.up.fetch({ path: 'x' });
    expect(a.real.calls).toHaveLength(0);
    expect(res.headers['content-length']).toBe('6');
    await a.up.release();
  });

  it('fails open when the state is down: fetches upstream itself', async () => {
    const down: LeaseBackend = {
      acquire: async () => { throw new Error('down'); }, renew: async () => { throw new Error('down'); },
      release: async () => { throw new Error('down'); }, holder: async () => { throw new Error('down'); },
    };
    const a = node('http://a', down, noPeer);
    expect((await a.up.fetch({ path: 'x' })).url).toBe('http://up/x');
  });
});
