import { randomUUID } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono, type Context } from 'hono';
import { RepointError, isRepointError } from '../errors.ts';
import { redactText } from '../formats/http/redact.ts';
import type { Logger } from '../log.ts';
import type { RemoteHandler } from '../serve/remote-handler.ts';
import type { Reply } from '../serve/reply.ts';
import { publicMessage, retryAfterFor, statusFor } from './error-status.ts';
import { forwardToRemote } from './forward-proxy.ts';
import { parseRequestPath } from './request-path.ts';
import { planResponse } from './response-plan.ts';
import { blobRedirect, type BlobRedirect } from './redirect.ts';
import { sendToNode, toWebResponse } from './send.ts';
import { classify, onResponseEnd, RequestLog, type Observation } from './request-log.ts';
import type { Ops } from '../ops/ops.ts';

export interface AppDeps {
  remotes: ReadonlyMap<string, RemoteHandler>;
  /** Each remote's upstream base URLs, for forward-proxy requests (absolute URIs). */
  upstreams: ReadonlyMap<string, readonly string[]>;
  log: Logger;
  /** The proxy's own endpoints under /-/; returns undefined for an unknown one. */
  internal: (path: string[], c: Ctx) => Promise<Response | undefined>;
  /** Metrics and the request scope; without it only the access line is written. */
  ops?: Ops;
  /** blobs.redirect: hits on pool files and by-hash blobs answer 302 to the object's presigned URL. */
  redirect?: BlobRedirect;
}

type Ctx = Context<{ Bindings: HttpBindings }>;

export function createApp(deps: AppDeps): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();

  const requests = new RequestLog(deps.log, deps.ops);

  app.all('*', async (c) => {
    const id = c.req.header('x-request-id') ?? randomUUID();
    // the socket's method: hono dispatches HEAD as GET
    const method = c.env?.incoming?.method ?? c.req.method;
    let rawUrl = c.env?.incoming?.url ?? new URL(c.req.url).pathname;
    const obs = requests.begin(id, method, redactText(rawUrl.replace(/[?#].*$/, '')));
    try {
      return await requests.run(obs, () => handle(c, obs));
    } catch (err) {
      const code = isRepointError(err) ? err.code : 'INTERNAL';
      obs.cache = 'error';
      requests.done(obs, statusFor(code), 0);
      throw err;
    }

    async function handle(c: Ctx, obs: Observation): Promise<Response> {
      if (/^https?:\/\//i.test(rawUrl)) {
        const mapped = forwardToRemote(rawUrl, deps.upstreams);
        if (!mapped) throw new RepointError('UNKNOWN_REMOTE', `no remote mirrors ${rawUrl.replace(/[?#].*$/, '')}; add one whose upstream is that URL's base`);
        rawUrl = mapped;
      }
      const rawPath = rawUrl.replace(/\?.*$/, '');
      const { segments } = parseRequestPath(rawPath);
      if (segments[0] === '-') {
        obs.internal = true;
        const res = await deps.internal(segments.slice(1), c);
        if (!res) throw new RepointError('NOT_FOUND', `no such endpoint: ${rawPath}`);
        requests.done(obs, res.status, Number(res.headers.get('content-length') ?? 0));
        return res;
      }
      if (method !== 'GET' && method !== 'HEAD') {
        throw new RepointError('METHOD_NOT_ALLOWED', `method ${method} not allowed; use GET or HEAD`);
      }
      const remoteName = segments[0];
      const remote = remoteName === undefined ? undefined : deps.remotes.get(remoteName);
      if (!remote) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${remoteName ?? ''}"; configured: ${[...deps.remotes.keys()].join(', ')}`);
      obs.remote = remote.name;
      const rest = segments.slice(1).join('/') + (rawPath.endsWith('/') && segments.length > 1 ? '/' : '');
      const reply: Reply = await remote.handle(rest, { method, id });
      const kind = classify(reply, obs.trace);
      obs.cache = kind.cache;
      obs.fromUpstream = kind.fromUpstream;
      const conditional = c.req.header('if-none-match') !== undefined || c.req.header('if-modified-since') !== undefined;
      const redirected = await blobRedirect(deps.redirect, rest, method, reply, conditional);
      if (redirected) {
        redirected.headers.set('x-request-id', id);
        requests.done(obs, redirected.status, 0);
        return redirected;
      }
      const plan = await planResponse({
        method,
        range: c.req.header('range'),
        ifRange: c.req.header('if-range'),
        ifNoneMatch: c.req.header('if-none-match'),
        ifModifiedSince: c.req.header('if-modified-since'),
      }, reply);
      plan.headers['x-request-id'] = id;
      const planned = plan.body === undefined ? 0 : plan.headers['content-length'] === undefined ? undefined : Number(plan.headers['content-length']);
      const outgoing = c.env?.outgoing;
      if (outgoing) {
        onResponseEnd(outgoing, planned, (ok, bytes) => {
          if (!ok) obs.cache = 'error'; // a body that failed mid-stream (verification) or a client that left
          requests.done(obs, plan.status, bytes);
        });
        void sendToNode(outgoing, plan, deps.log.child({ id, path: rawPath }));
        return RESPONSE_ALREADY_SENT;
      }
      requests.done(obs, plan.status, planned ?? 0);
      return toWebResponse(plan);
    }
  });

  app.onError((err, c) => {
    const e = isRepointError(err) ? err : new RepointError('INTERNAL', err.message, {}, { cause: err });
    const status = statusFor(e.code);
    const level = status >= 500 ? 'error' : 'info';
    deps.log[level]('request failed', { method: c.req.method, path: c.env?.incoming?.url ?? c.req.path, status, code: e.code, reason: redactText(e.message) });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    if (e.code === 'METHOD_NOT_ALLOWED') headers.allow = 'GET, HEAD';
    const retryAfter = retryAfterFor(e.code);
    if (retryAfter !== undefined) headers['retry-after'] = String(retryAfter);
    const body = c.req.method === 'HEAD' ? null : JSON.stringify({ error: e.code, message: publicMessage(e) }) + '\n';
    return new Response(body, { status, headers });
  });

  return app;
}
