import type { Upstream } from '../upstream/upstream.ts';
import { InstrumentedUpstream, type Download } from './instrumented-upstream.ts';
import { RemoteMeters } from './remote-meters.ts';
import { RequestScope } from './request-trace.ts';

/** A checkpoint run this process finished. */
export interface CheckpointRun {
  atMs: number;
  seconds: number;
}

/**
 * This process's operational figures: per-remote meters (requests, bytes, upstream), the request
 * scope that attributes upstream time to client requests, downloads in flight, gc and checkpoint runs.
 * Made once by the runtime; read by /-/metrics and /-/status.
 */
export class Ops {
  readonly scope = new RequestScope();
  readonly downloads = new Set<Download>();
  readonly startedMs = Date.now();
  /** Bytes gc freed in this process (automatic collection while serving). */
  gcFreedBytes = 0;
  readonly checkpointRuns = new Map<string, CheckpointRun>();
  readonly #meters = new Map<string, RemoteMeters>();
  /** For requests that name no configured remote: their label is "-" (bounded: never the name asked for). */
  readonly unknown = new RemoteMeters('-');

  /** The meters of a configured remote (made on first use). */
  meter(remote: string): RemoteMeters {
    let m = this.#meters.get(remote);
    if (!m) this.#meters.set(remote, (m = new RemoteMeters(remote)));
    return m;
  }

  /** Configured remotes' meters (plus "-" once a request named no remote). */
  meters(): RemoteMeters[] {
    const all = [...this.#meters.values()];
    return this.unknown.byCache.some((n) => n > 0) ? [...all, this.unknown] : all;
  }

  instrument(remote: string, upstream: Upstream): Upstream {
    return new InstrumentedUpstream(upstream, this.meter(remote), this.scope, this.downloads);
  }

  checkpointDone(remote: string, seconds: number): void {
    this.checkpointRuns.set(remote, { atMs: Date.now(), seconds });
  }
}
