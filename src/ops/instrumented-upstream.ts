import type { Readable } from 'node:stream';
import { isRepointError } from '../errors.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../upstream/upstream.ts';
import type { RemoteMeters } from './remote-meters.ts';
import type { RequestScope } from './request-trace.ts';

/** One upstream body being received, for "downloads in flight" on the status page. */
export interface Download {
  remote: string;
  path: string;
  /** Content-Length, when upstream sent one. */
  size: number | undefined;
  received: number;
  startedMs: number;
}

/**
 * A remote's Upstream with its figures recorded: requests by status, time to response headers, bytes
 * received, health, verification failures reported back (`rejected`), downloads in flight, and the
 * current client request's upstream time.
 */
export class InstrumentedUpstream implements Upstream {
  readonly #inner: Upstream;
  readonly #meters: RemoteMeters;
  readonly #scope: RequestScope;
  readonly #inFlight: Set<Download>;

  constructor(inner: Upstream, meters: RemoteMeters, scope: RequestScope, inFlight: Set<Download>) {
    this.#inner = inner;
    this.#meters = meters;
    this.#scope = scope;
    this.#inFlight = inFlight;
  }

  get bases(): readonly string[] { return this.#inner.bases; }
  get id(): string { return this.#inner.id; }

  rejected(code: string): void {
    this.#meters.verificationFailed(code);
  }

  async fetch(req: UpstreamRequest): Promise<UpstreamResponse> {
    const started = performance.now();
    const trace = this.#scope.current();
    let res: UpstreamResponse;
    try {
      res = await this.#inner.fetch(req);
    } catch (err) {
      const ms = performance.now() - started;
      this.#meters.upstreamFailure(isRepointError(err) ? err.code : 'INTERNAL', ms / 1000, Date.now());
      if (trace) { trace.upstreamMs += ms; trace.upstreamRequests++; }
      throw err;
    }
    const ms = performance.now() - started;
    this.#meters.upstreamAnswer(res.status, ms / 1000, Date.now());
    if (trace) {
      trace.upstreamMs += ms;
      trace.upstreamRequests++;
      if (res.status === 200 || res.status === 206) trace.fetched = true;
    }
    if (res.status === 200 || res.status === 206) this.#track(res.body, req.path, res.headers['content-length']);
    return res;
  }

  /**
   * Counts the body's bytes as they are pushed into it (no extra stream in the pipeline, nothing
   * changes for the reader) and lists it as in flight until it ends, fails or is dropped.
   */
  #track(body: Readable, path: string, length: string | undefined): void {
    const meters = this.#meters;
    const dl: Download = { remote: meters.name, path, size: length === undefined ? undefined : Number(length), received: 0, startedMs: Date.now() };
    const push = body.push.bind(body);
    body.push = (chunk: unknown, encoding?: BufferEncoding): boolean => {
      if (chunk !== null && chunk !== undefined) {
        const n = (chunk as { length: number }).length;
        dl.received += n;
        meters.upstreamBytes += n;
      }
      return push(chunk, encoding);
    };
    this.#inFlight.add(dl);
    body.once('close', () => this.#inFlight.delete(dl));
  }
}
