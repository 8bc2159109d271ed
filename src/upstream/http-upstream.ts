import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { errors, request, type Dispatcher } from 'undici';
import { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { redactUrl } from '../formats/http/redact.ts';
import { decideRedirect, isRedirect } from './redirect-policy.ts';
import { backoffMs, encodePath, isRetryableStatus, retryAfterMs } from './retry-policy.ts';
import { discard, type Upstream, type UpstreamRequest, type UpstreamResponse } from './upstream.ts';

const USER_AGENT = 'repoint/0.1 (+caching apt/yum proxy)';

/** One configured mirror: its clean base URL and what to authenticate to its origin with. */
export interface UpstreamBase {
  url: string;
  authorization?: string | undefined;
}

export interface HttpUpstreamOptions {
  /** The remote's name, for messages. */
  remote: string;
  bases: readonly UpstreamBase[];
  /** Connections to the configured upstream origins (with the remote's TLS settings). */
  dispatcher: Dispatcher;
  /** Connections to redirect targets on other origins: address-guarded, no client certificate. */
  redirectDispatcher: Dispatcher;
  /** remotes.<name>.redirectHosts */
  redirectHosts: readonly string[];
  retries: number;
  log: Logger;
}

/** The identity of an upstream (see Upstream.id): order-free, and without credentials. */
export function upstreamId(bases: readonly string[], redirectHosts: readonly string[]): string {
  const canonical = JSON.stringify({ bases: [...bases].sort(), redirectHosts: [...redirectHosts].sort() });
  return `up-${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

export class HttpUpstream implements Upstream {
  readonly bases: readonly string[];
  readonly id: string;
  #o: HttpUpstreamOptions;

  constructor(o: HttpUpstreamOptions) {
    this.#o = o;
    this.bases = o.bases.map((b) => b.url);
    this.id = upstreamId(this.bases, o.redirectHosts);
  }

  async fetch(req: UpstreamRequest): Promise<UpstreamResponse> {
    const { retries, log } = this.#o;
    let lastError: RepointError | undefined;
    let notFound: UpstreamResponse | undefined;
    for (const base of this.#o.bases) {
      const url = `${base.url}/${encodePath(req.path)}`;
      for (let attempt = 0; attempt <= retries; attempt++) {
        req.signal?.throwIfAborted();
        let answer: { res: Dispatcher.ResponseData; url: string };
        try {
          answer = await this.#follow(base, url, req);
        } catch (err) {
          if (req.signal?.aborted) throw err;
          lastError = toUpstreamError(err, url);
          log.warn('upstream request failed', { url, attempt, code: lastError.code, reason: lastError.message });
          if (lastError.code === 'UPSTREAM_REDIRECT_REFUSED') break; // it would only say so again: next mirror
          if (attempt < retries) await sleep(backoffMs(attempt));
          continue;
        }
        const { res } = answer;
        const at = answer.url;
        const headers = flatten(res.headers);
        if (res.statusCode === 200 || res.statusCode === 206 || res.statusCode === 304) {
          return { status: res.statusCode, headers, body: res.body, url: at };
        }
        discard(res.body); // drain so the connection returns to the pool
        if (res.statusCode === 404 || res.statusCode === 410) {
          notFound ??= { status: res.statusCode, headers, body: res.body, url: at };
          break; // a lagging mirror: try the next one
        }
        lastError = new RepointError(
          isRetryableStatus(res.statusCode) ? 'UPSTREAM_UNAVAILABLE' : 'UPSTREAM_BAD_STATUS',
          `upstream answered ${res.statusCode} for ${at}`,
          { url: at, status: res.statusCode },
        );
        log.warn('upstream status', { url: at, attempt, status: res.statusCode });
        if (!isRetryableStatus(res.statusCode)) break;
        if (attempt < retries) await sleep(retryAfterMs(headers['retry-after']) ?? backoffMs(attempt));
      }
    }
    // One mirror's 404 outweighs another's outage: the file is most likely really gone.
    if (notFound) return notFound;
    throw lastError ?? new RepointError('UPSTREAM_UNAVAILABLE', 'no upstream configured');
  }

  /**
   * One GET with its redirects followed as redirect-policy.ts allows. Credentials and the configured
   * connections (client certificate) are used for the base's own origin only; other origins go
   * through the address-guarded dispatcher, without them.
   */
  async #follow(base: UpstreamBase, url: string, req: UpstreamRequest): Promise<{ res: Dispatcher.ResponseData; url: string }> {
    const origin = new URL(base.url).origin;
    let current = url;
    for (let hops = 0; ; hops++) {
      const own = new URL(current).origin === origin;
      const headers: Record<string, string> = { 'user-agent': USER_AGENT, ...req.headers };
      if (own && base.authorization) headers.authorization = base.authorization;
      const res = await request(current, {
        dispatcher: own ? this.#o.dispatcher : this.#o.redirectDispatcher,
        method: 'GET',
        headers,
        ...(req.signal ? { signal: req.signal } : {}),
      });
      if (!isRedirect(res.statusCode)) return { res, url: own && hops === 0 ? current : redactUrl(current, { query: 'drop' }) };
      discard(res.body);
      const location = res.headers.location;
      const decision = decideRedirect(current, Array.isArray(location) ? location[0] : location, hops, {
        remote: this.#o.remote, origin, allowedHosts: this.#o.redirectHosts, verified: req.verified === true,
      });
      if ('refuse' in decision) throw new RepointError('UPSTREAM_REDIRECT_REFUSED', decision.refuse, { remote: this.#o.remote });
      this.#o.log.debug('following upstream redirect', { from: redactUrl(current, { query: 'drop' }), to: redactUrl(decision.follow, { query: 'drop' }) });
      current = decision.follow;
    }
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
  return new RepointError(timeout ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNAVAILABLE', `upstream ${redactUrl(url)}: ${e.message}`, { url: redactUrl(url) }, { cause: err });
}
