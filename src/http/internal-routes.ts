import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Runtime } from '../runtime.ts';
import { VERSION } from '../version.ts';

/** The proxy's own endpoints under /-/. */
export function internalRoutes(rt: Runtime): (path: string[], c: Context<{ Bindings: HttpBindings }>) => Promise<Response | undefined> {
  return async (path, c) => {
    const route = path.join('/');
    if (route === 'health' && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      const totals = await rt.content.blobs.totals();
      return c.json({
        status: 'ok',
        version: VERSION,
        remotes: [...rt.config.remotes.values()].map((r) => ({ name: r.name, type: r.type, upstream: r.upstreams })),
        blobs: { count: totals.count, bytes: totals.bytes },
        activeDownloads: rt.content.fills.active,
      }, 200, { 'cache-control': 'no-store' });
    }
    return undefined;
  };
}
