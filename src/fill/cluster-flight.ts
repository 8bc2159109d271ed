import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import { sha256Of } from '../formats/digests.ts';
import { internalFillPath, NO_FILL_HEADER } from '../formats/http/internal-fill-path.ts';
import type { Logger } from '../log.ts';
import { leaseNames } from '../state/keys.ts';
import type { LeaseTiming } from '../state/lease.ts';
import type { LeaseBackend } from '../state/state-store.ts';
import { discard, type UpstreamRequest, type UpstreamResponse } from '../upstream/upstream.ts';
import { ClusterUpstream } from './cluster-upstream.ts';
import { DerivedUpstream } from './derived-upstream.ts';
import type { FillSpec } from './fill.ts';
import type { PeerAuth } from './peer-auth.ts';

export interface ClusterFlightOptions {
  leases: LeaseBackend;
  blobs: BlobStore;
  auth: PeerAuth;
  timing: LeaseTiming;
  log: Logger;
  /** Longest silence allowed from a leader (before its headers, between its bytes). */
  peerTimeoutMs: number;
}

/**
 * The cross-node single flight: one upstream download per fill key across every node sharing the
 * state (Redis). The in-process FillRegistry keeps one Fill per key per node; this wraps that Fill's
 * upstream in a ClusterUpstream, which elects the node that really fetches (a per-key lease) and
 * makes the others stream from it. Enabled once the node listens (followers need its URL).
 */
export class ClusterFlight {
  readonly #opts: ClusterFlightOptions;
  readonly #agent: Agent;
  #self: string | undefined;

  constructor(opts: ClusterFlightOptions) {
    this.#opts = opts;
    this.#agent = new Agent({ headersTimeout: opts.peerTimeoutMs, bodyTimeout: opts.peerTimeoutMs, connectTimeout: 5_000 });
  }

  /** This node's internal URL; until set (a CLI command never sets it) fills are not coordinated. */
  enable(selfUrl: string): void {
    this.#self = selfUrl.replace(/\/+$/, '');
  }

  /** The spec with a cluster-elected upstream, and what to call when its Fill has ended. */
  wrap(spec: FillSpec): { spec: FillSpec; ended: () => Promise<void> } | undefined {
    // A derived file is made from a local blob: nothing to share.
    if (!this.#self || spec.upstream instanceof DerivedUpstream) return undefined;
    const sha256 = sha256Of(spec.expected);
    const upstream = new ClusterUpstream(spec.upstream, spec.key, leaseNames.fill(spec.key), sha256, {
      leases: this.#opts.leases, blobs: this.#opts.blobs, timing: this.#opts.timing, self: this.#self, log: this.#opts.log,
      peerFetch: (leader, key, req) => this.#peerFetch(leader, key, req),
    });
    // a follower's bytes are stored by the leader: its own commit then finds them in a shared store
    return { spec: { ...spec, upstream, uploadAlongside: () => upstream.leading }, ended: () => upstream.release() };
  }

  async #peerFetch(leader: string, key: string, req: UpstreamRequest): Promise<UpstreamResponse | 'none'> {
    const path = internalFillPath(key);
    const url = leader + path;
    const headers: Record<string, string> = { authorization: this.#opts.auth.header('GET', path) };
    const range = req.headers?.range;
    if (range) headers.range = range;
    const res = await request(url, { method: 'GET', headers, dispatcher: this.#agent, ...(req.signal ? { signal: req.signal } : {}) });
    const h = (name: string): string | undefined => {
      const v = res.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    if (res.statusCode === 200 || res.statusCode === 206) {
      const out: Record<string, string | undefined> = {};
      for (const name of ['content-length', 'content-range', 'last-modified']) out[name] = h(name);
      return { status: res.statusCode, headers: out, body: res.body, url: `${leader} (cluster leader)` };
    }
    discard(res.body);
    if (h(NO_FILL_HEADER) === 'none') return 'none';
    if (res.statusCode === 404 || res.statusCode === 410) return { status: 404, headers: {}, body: emptyBody(), url: `${leader} (cluster leader)` };
    // The leader's own download failed (it frees the lease): elect again, maybe fetch ourselves.
    if (res.statusCode === 502 || res.statusCode === 503 || res.statusCode === 504) return 'none';
    if (res.statusCode === 401) throw new RepointError('UNAUTHORIZED', `cluster leader ${leader} refused this node's signature`);
    throw new RepointError('UPSTREAM_BAD_STATUS', `cluster leader ${leader} answered ${res.statusCode} for a fill`);
  }

  async close(): Promise<void> {
    await this.#agent.destroy();
  }
}

function emptyBody(): UpstreamResponse['body'] {
  return Readable.from([]); // a finished stream, like the body of a 404
}
