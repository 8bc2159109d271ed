import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError, isRepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { leaseHolder, tryAcquireLease, type Lease, type LeaseTiming } from '../state/lease.ts';
import type { LeaseBackend } from '../state/state-store.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../upstream/upstream.ts';

/** Fetches a fill's bytes from the node leading it (see ClusterFlight.peerFetch). */
export type PeerFetch = (leaderUrl: string, key: string, req: UpstreamRequest) => Promise<UpstreamResponse | 'none'>;

export interface ClusterUpstreamDeps {
  leases: LeaseBackend;
  blobs: BlobStore;
  timing: LeaseTiming;
  /** This node's internal URL: the lease's owner, how followers reach us. */
  self: string;
  peerFetch: PeerFetch;
  log: Logger;
}

/**
 * The upstream of one fill in a cluster: every fetch (the first, and each resume after a break)
 * elects who downloads. The holder of the fill's lease fetches from the real upstream; the others
 * fetch the leader's fill over its internal endpoint, as bytes arrive. The follower's Fill still hashes
 * and verifies everything itself, so a leader can only cost time, never a bad byte. When the leader
 * dies its connection breaks, the Fill resumes at the bytes it has, and this elects again: once the
 * dead leader's lease lapses (state.leaseTtl) one follower takes it and resumes from upstream with a
 * Range, the others follow that one.
 */
export class ClusterUpstream implements Upstream {
  readonly bases: readonly string[];
  readonly id: string;
  readonly #real: Upstream;
  readonly #key: string;
  readonly #leaseName: string;
  readonly #sha256: string | undefined;
  readonly #deps: ClusterUpstreamDeps;
  #lease: Lease | undefined;
  #released = false;

  constructor(real: Upstream, key: string, leaseName: string, sha256: string | undefined, deps: ClusterUpstreamDeps) {
    this.#real = real;
    this.bases = real.bases;
    this.id = real.id;
    this.#key = key;
    this.#leaseName = leaseName;
    this.#sha256 = sha256;
    this.#deps = deps;
  }

  /** True while this node leads the fill (holds its lease). */
  get leading(): boolean {
    return this.#lease !== undefined && !this.#lease.signal.aborted;
  }

  async fetch(req: UpstreamRequest): Promise<UpstreamResponse> {
    // Long enough for a dead leader's lease to lapse and a new leader to start, with margin.
    const deadline = Date.now() + 3 * this.#deps.timing.ttlMs + 30_000;
    let waitedOn: string | undefined;
    let unreachableSince = 0;
    for (;;) {
      req.signal?.throwIfAborted();
      if (this.#released) throw new RepointError('INTERNAL', `fill ${this.#key} already ended`);
      if (this.#lease) return this.#real.fetch(req); // leading; a lost lease only risks a second fetch
      let holder: Awaited<ReturnType<typeof leaseHolder>>;
      try {
        holder = await leaseHolder(this.#deps.leases, this.#leaseName);
        if (!holder) {
          this.#lease = await this.#acquire();
          if (this.#lease) return await this.#lead(req);
          continue; // someone else took it in between: follow them
        }
      } catch (err) {
        // Open on availability: without the state, fetch ourselves (a second fetch, never a wrong byte).
        this.#deps.log.warn('cluster single flight unavailable; fetching upstream directly', { key: this.#key, reason: (err as Error).message });
        return this.#real.fetch(req);
      }
      // A holder that cannot be followed (a CLI run, or this very address after a restart): fetch ourselves.
      if (!holder.owner || holder.owner === this.#deps.self) return this.#real.fetch(req);
      try {
        const res = await this.#deps.peerFetch(holder.owner, this.#key, req);
        if (res !== 'none') return res;
      } catch (err) {
        if (isRepointError(err, 'UNAUTHORIZED')) {
          this.#deps.log.error('fill leader refused this node (nodes must share the signing key file); fetching upstream directly', { key: this.#key, leader: holder.owner });
          return this.#real.fetch(req);
        }
        // The leader is gone or unreachable: a dead one's lease lapses within ttl, then we elect again.
        if (waitedOn !== holder.owner) {
          this.#deps.log.warn('fill leader unreachable; waiting for its lease to lapse', { key: this.#key, leader: holder.owner, reason: (err as Error).message });
          waitedOn = holder.owner;
          unreachableSince = Date.now();
        } else if (Date.now() - unreachableSince > this.#deps.timing.ttlMs + this.#deps.timing.renewEveryMs) {
          // Still held a whole term later: it is alive (renewing) but we cannot reach it. Open on availability.
          this.#deps.log.warn('fill leader alive but unreachable (check node.internalUrl); fetching upstream directly', { key: this.#key, leader: holder.owner });
          return this.#real.fetch(req);
        }
      }
      if (Date.now() > deadline) throw new RepointError('UPSTREAM_UNAVAILABLE', `no node could lead the download of ${this.#key} in time`);
      await sleep(Math.min(500, Math.max(50, this.#deps.timing.renewEveryMs / 2)), undefined, req.signal ? { signal: req.signal } : {});
    }
  }

  #acquire(): Promise<Lease | undefined> {
    return tryAcquireLease(this.#deps.leases, this.#leaseName, { ...this.#deps.timing, owner: this.#deps.self, log: this.#deps.log }).then((lease) => {
      lease?.signal.addEventListener('abort', () => void this.#reclaim(), { once: true });
      return lease;
    });
  }

  /**
   * The lease lapsed while this node still downloads (a stall outlasted leaseTtl, so a renewal came
   * too late): take it back if nobody else has, so followers keep following the live download rather
   * than start a second one. If another node took it meanwhile, both download (bandwidth only).
   */
  async #reclaim(): Promise<void> {
    if (this.#released) return;
    try {
      const again = await this.#acquire();
      if (this.#released) {
        await again?.release();
        return;
      }
      if (again) this.#lease = again;
      this.#deps.log.warn(again ? 'fill lease lapsed while leading; taken back' : 'fill lease lapsed while leading and another node took it: two downloads', { key: this.#key });
    } catch (err) {
      this.#deps.log.warn('fill lease lapsed while leading and could not be taken back', { key: this.#key, reason: (err as Error).message });
    }
  }

  /** Just elected: if the previous leader already stored the blob, copy it from the store, not upstream. */
  async #lead(req: UpstreamRequest): Promise<UpstreamResponse> {
    const stored = this.#sha256 ? await this.#deps.blobs.stat(this.#sha256) : undefined;
    if (!stored || req.headers?.range) return this.#real.fetch(req);
    return {
      status: 200,
      headers: { 'content-length': String(stored.size), 'last-modified': new Date(stored.mtimeMs).toUTCString() },
      body: this.#deps.blobs.open(stored.sha256),
      url: `blob:${stored.sha256}`,
    };
  }

  /** The fill ended (committed or failed): free the lease (compare-and-delete) so nobody waits on it. */
  async release(): Promise<void> {
    this.#released = true;
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release();
  }
}
