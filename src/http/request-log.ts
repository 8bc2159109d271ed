import type { ServerResponse } from 'node:http';
import type { Logger } from '../log.ts';
import type { Ops } from '../ops/ops.ts';
import { CACHE, type CacheResult } from '../ops/remote-meters.ts';
import { newTrace, type RequestTrace } from '../ops/request-trace.ts';
import type { Reply } from '../serve/reply.ts';

/** One client request being answered: what its access line and metrics are made from. */
export interface Observation {
  reqId: string;
  started: number;
  trace: RequestTrace;
  method: string;
  path: string;
  /** The configured remote it named; undefined for /-/ endpoints and unknown remotes. */
  remote: string | undefined;
  internal: boolean;
  cache: CacheResult;
  /** Where the body's bytes come from: the cache, or an upstream download (a fill, a pass-through). */
  fromUpstream: boolean;
}

/** Which of hit|miss|stale|pass the reply is (error is decided when it fails). */
export function classify(reply: Reply, trace: RequestTrace): { cache: CacheResult; fromUpstream: boolean } {
  if (reply.body.kind === 'stream') return { cache: 'pass', fromUpstream: true };
  if (reply.body.kind === 'growing') return { cache: 'miss', fromUpstream: true };
  if (reply.headers?.['x-repoint-stale'] !== undefined) return { cache: 'stale', fromUpstream: false };
  // metadata just fetched and verified in this request (a revalidation that got a new file)
  return trace.fetched ? { cache: 'miss', fromUpstream: true } : { cache: 'hit', fromUpstream: false };
}

/** Writes the access line and records the request in the remote's meters (never for /-/ endpoints). */
export class RequestLog {
  readonly #log: Logger;
  readonly #ops: Ops | undefined;

  constructor(log: Logger, ops: Ops | undefined) {
    this.#log = log;
    this.#ops = ops;
  }

  begin(reqId: string, method: string, path: string): Observation {
    return { reqId, started: performance.now(), trace: newTrace(), method, path, remote: undefined, internal: false, cache: 'hit', fromUpstream: false };
  }

  /** Runs `fn` with `o`'s trace as the current request (upstream time is attributed to it). */
  run<T>(o: Observation, fn: () => T): T {
    return this.#ops ? this.#ops.scope.run(o.trace, fn) : fn();
  }

  done(o: Observation, status: number, bytes: number): void {
    o.trace.open = false;
    const ms = performance.now() - o.started;
    const cache = o.internal ? '-' : o.cache;
    this.#log.access({
      reqId: o.reqId, remote: o.remote ?? '-', method: o.method, path: o.path, status, bytes, cache, ms: Math.round(ms * 100) / 100,
      ...(o.trace.upstreamRequests > 0 ? { upstreamMs: Math.round(o.trace.upstreamMs * 100) / 100 } : {}),
    });
    if (!this.#ops || o.internal) return;
    const meters = o.remote === undefined ? this.#ops.unknown : this.#ops.meter(o.remote);
    meters.request(o.method, status, CACHE[o.cache], bytes, o.fromUpstream, ms / 1000, Date.now());
  }
}

/**
 * Calls back once the response has ended, with the body bytes sent: the planned Content-Length when
 * it went out whole, else what the socket wrote (an aborted or chunked body; headers included).
 */
export function onResponseEnd(res: ServerResponse, planned: number | undefined, done: (ok: boolean, bytes: number) => void): void {
  const socket = res.socket;
  const before = socket?.bytesWritten ?? 0;
  res.once('close', () => {
    const ok = res.writableFinished;
    const written = Math.max(0, (socket?.bytesWritten ?? before) - before);
    done(ok, ok && planned !== undefined ? planned : planned !== undefined ? Math.min(planned, written) : written);
  });
}
