import type { Readable } from 'node:stream';

export interface UpstreamRequest {
  /** Decoded path relative to the remote's base URL, no leading slash. */
  path: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

export interface UpstreamResponse {
  /** 200, 206 or 304; or 404/410 when every mirror said so. */
  status: number;
  headers: Record<string, string | undefined>;
  body: Readable;
  /** The mirror URL that answered, for logs. */
  url: string;
}

/** One remote's upstream: retries, failover across mirrors. Throws RepointError on final failure. */
export interface Upstream {
  readonly bases: readonly string[];
  fetch(req: UpstreamRequest): Promise<UpstreamResponse>;
}

/** Drops a body we will not read, without an unhandled 'aborted' error from undici. */
export function discard(body: Readable): void {
  body.on('error', () => {});
  body.resume();
}
