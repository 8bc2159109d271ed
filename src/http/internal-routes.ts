import { timingSafeEqual } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { RepointError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { VERSION } from '../version.ts';
import { exportResponse } from './export-route.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

function requireAdmin(rt: Runtime, c: Ctx): void {
  const token = rt.config.admin.token;
  if (!token) throw new RepointError('UNAUTHORIZED', 'the admin API is disabled: set admin.token in the config (or REPOINT_ADMIN_TOKEN)');
  const given = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw new RepointError('UNAUTHORIZED', 'missing or wrong admin token (Authorization: Bearer <admin.token>)');
}

/** The origin clients used, for URLs in answers when publicUrl is not configured. */
function requestOrigin(c: Ctx): string {
  const host = c.req.header('host') ?? 'localhost';
  return `http://${host}`;
}

/** The proxy's own endpoints under /-/. */
export function internalRoutes(rt: Runtime): (path: string[], c: Ctx) => Promise<Response | undefined> {
  return async (path, c) => {
    const route = path.join('/');
    const method = c.env?.incoming?.method ?? c.req.method;
    const read = method === 'GET' || method === 'HEAD';
    if (route === 'health' && read) {
      const totals = await rt.content.blobs.totals();
      return c.json({
        status: 'ok',
        version: VERSION,
        remotes: [...rt.config.remotes.values()].map((r) => ({ name: r.name, type: r.type, upstream: r.upstreams, ...(r.unavailable ? { unavailable: r.unavailable } : {}) })),
        blobs: { count: totals.count, bytes: totals.bytes },
        activeDownloads: rt.content.fills.active,
      }, 200, { 'cache-control': 'no-store' });
    }
    if (route === 'keys/mirror.asc' && read) {
      return c.body(rt.signer.publicKeyArmored, 200, { 'content-type': 'application/pgp-keys', 'cache-control': 'public, max-age=3600' });
    }
    if (route === 'keys/mirror.gpg' && read) {
      return c.body(new Uint8Array(rt.signer.publicKeyBinary), 200, { 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=3600' });
    }
    const exp = /^api\/remotes\/([^/]+)\/export$/.exec(route);
    if (exp && read) {
      requireAdmin(rt, c);
      return exportResponse(rt, exp[1]!, (k) => c.req.query(k));
    }
    const api = /^api\/remotes\/([^/]+)\/checkpoints$/.exec(route);
    if (api) {
      const remote = api[1]!;
      if (!rt.config.remotes.has(remote)) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${remote}"`);
      const base = rt.config.publicUrl ?? requestOrigin(c);
      if (read) {
        const list = await rt.checkpoints.catalogue.list(remote);
        return c.json({ remote, checkpoints: list.map((e) => ({ ...e, url: `${base}/${remote}/${e.ts}/` })) }, 200, { 'cache-control': 'no-cache' });
      }
      if (method === 'POST') {
        requireAdmin(rt, c);
        const entry = await rt.checkpoints.create(remote, { baseUrl: base });
        return c.json({ remote, ...entry, url: `${base}/${remote}/${entry.ts}/` }, 201);
      }
      throw new RepointError('METHOD_NOT_ALLOWED', `method ${method} not allowed here; use GET or POST`);
    }
    return undefined;
  };
}
