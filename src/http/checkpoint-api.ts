import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { RepointError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { requireAdmin } from './admin.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

const LIST = /^api\/remotes\/([^/]+)\/checkpoints$/;

/**
 * `/-/api/remotes/<r>/checkpoints` (GET list, POST create). URLs in answers are built from
 * runtime.publicUrl(), never from the request's Host.
 */
export async function checkpointApi(rt: Runtime, route: string, method: string, c: Ctx): Promise<Response | undefined> {
  const remote = LIST.exec(route)?.[1];
  if (remote === undefined) return undefined;
  if (!rt.config.remotes.has(remote)) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${remote}"`);
  const base = rt.publicUrl();
  if (method === 'GET' || method === 'HEAD') {
    const entries = await rt.checkpoints.catalogue.list(remote);
    return c.json({ remote, checkpoints: entries.map((e) => ({ ...e, url: `${base}/${remote}/${e.ts}/` })) }, 200, { 'cache-control': 'no-cache' });
  }
  if (method === 'POST') {
    requireAdmin(rt, c);
    const entry = await rt.checkpoints.create(remote);
    return c.json({ remote, ...entry, url: `${base}/${remote}/${entry.ts}/` }, 201);
  }
  throw new RepointError('METHOD_NOT_ALLOWED', `method ${method} not allowed here; use GET or POST`);
}
