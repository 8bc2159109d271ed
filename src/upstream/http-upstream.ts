import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, errors, interceptors, request, type Dispatcher } from 'undici';
import { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { UpstreamClientConfig } from '../config/types.ts';
import { backoffMs, encodePath, isRetryableStatus, retryAfterMs } from './retry-policy.ts';
import { discard, type Upstream, type UpstreamRequest, type UpstreamResponse } from './upstream.ts';

/** One undici Agent for the process: it keeps one connection pool per upstream origin. */
export function createUpstreamAgent(cfg: UpstreamClientConfig): Dispatcher {
  return new Agent({
    connect: { timeout: cfg.connectTimeoutMs },
    connections: cfg.connectionsPerHost,
    headersTimeout: cfg.bodyTimeoutMs,
    bodyTimeout: cfg.bodyTimeoutMs,
    keepAliveTimeout: 30_000,
  }).compose(interceptors.redirect({ maxRedirections: 5 }));
}

const USER_AGENT = 'repoint/0.1 (+caching apt/yum proxy)';

export class HttpUpstream implements Upstream {
  readonly bases: readonly string[];
  #dispatcher: Dispatcher;
  #retries: number;
  #log: Logger;

  constructor(bases: readonly string[], dispatcher: Dispatcher, retries: number, log: Logger) {
    this.bases = bases;
    this.#dispatcher = dispatcher;
    this.#retries = retries;
    this.#log = log;
  }

  async fetch(req: UpstreamRequest): Promise<UpstreamResponse> {
    let lastError: RepointError | undefined;
    let notFound: UpstreamResponse | undefined;
    for (const base of this.bases) {
      const url = `${base}/${encodePath(req.path)}`;
      for (let attempt = 0; attempt <= this.#retries; attempt++) {
        req.signal?.throwIfAborted();
        let res: Dispatcher.ResponseData;
        try {
          res = await request(url, {
            dispatcher: this.#dispatcher,
            method: 'GET',
            headers: { 'user-agent': USER_AGENT, ...req.headers },
            ...(req.signal ? { signal: req.signal } : {}),
          });
        } catch (err) {
          if (req.signal?.aborted) throw err;
          lastError = toUpstreamError(err, url);
          this.#log.warn('upstream request failed', { url, attempt, code: lastError.code, reason: lastError.message });
          if (attempt < this.#retries) await sleep(backoffMs(attempt));
          continue;
        }
        const headers = flatten(res.headers);
        if (res.statusCode === 200 || res.statusCode === 206 || res.statusCode === 304) {
          return { status: res.statusCode, headers, body: res.body, url };
        }
        discard(res.body); // drain so the connection returns to the pool
        if (res.statusCode === 404 || res.statusCode === 410) {
          notFound ??= { status: res.statusCode, headers, body: res.body, url };
          break; // a lagging mirror: try the next one
        }
        lastError = new RepointError(
          isRetryableStatus(res.statusCode) ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_BAD_STATUS',
          `upstream answered ${res.statusCode} for ${url}`,
          { url, status: res.statusCode },
        );
        this.#log.warn('upstream status', { url, attempt, status: res.statusCode });
        if (!isRetryableStatus(res.statusCode)) break;
        if (attempt < this.#retries) await sleep(retryAfterMs(headers['retry-after']) ?? backoffMs(attempt));
      }
    }
    // One mirror's 404 outweighs another's outage: the file is most likely really gone.
    if (notFound) return notFound;
    throw lastError ?? new RepointError('UPSTREAM_UNAVAILABLE', 'no upstream configured');
  }
}

function flatten(h: Record<string, string | string[] | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export function toUpstreamError(err: unknown, url: string): RepointError {
  if (err instanceof RepointError) return err;
  const e = err as Error;
  const timeout = e instanceof errors.ConnectTimeoutError || e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError;
  return new RepointError(timeout ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', `upstream ${url}: ${e.message}`, { url }, { cause: err });
}
