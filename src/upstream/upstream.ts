import type { Readable } from 'node:stream';

export interface UpstreamRequest {
  /** Decoded path relative to the remote's base URL, no leading slash. */
  path: string;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * True when the caller checks the body against a digest or signature it already trusts (fills,
   * signed metadata): such a request may follow redirects to the remote's redirectHosts. Otherwise
   * (pass-through content) only same-origin redirects are followed.
   */
  verified?: boolean;
}

export interface UpstreamResponse {
  /** 200, 206 or 304; or 404/410 when every mirror said so. */
  status: number;
  headers: Record<string, string | undefined>;
  body: Readable;
  /** The URL that answered (after redirects), without credentials or query, for messages and logs. */
  url: string;
}

/** One remote's upstream: retries, failover across mirrors. Throws RepointError on final failure. */
export interface Upstream {
  /** The configured base URLs, without credentials. */
  readonly bases: readonly string[];
  /**
   * Who this upstream is: equal for two remotes that fetch from the same places (same bases, same
   * redirect hosts), so they may share a download (see fill/fill-key.ts), different otherwise.
   */
  readonly id: string;
  fetch(req: UpstreamRequest): Promise<UpstreamResponse>;
  /** Told when bytes it sent failed a check (digest, size, signature, policy), with the error code: for metrics. */
  rejected?(code: string): void;
}

/** Drops a body we will not read, without an unhandled 'aborted' error from undici. */
export function discard(body: Readable): void {
  body.on('error', () => {});
  body.resume();
}
