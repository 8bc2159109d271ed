import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import type { Runtime } from '../runtime.ts';
import { VERSION } from '../version.ts';
import { checkpointApi } from './checkpoint-api.ts';
import { readiness } from './ready.ts';
import { setupRoutes } from './setup-routes.ts';
import { requireAdmin } from './admin.ts';
import { exportResponse } from './export-route.ts';
import { internalRequest } from './internal-fill.ts';
import { metricsRoute } from './metrics-route.ts';
import { buildStatus } from './status-model.ts';
import { renderStatusPage } from './status-page.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

/** The proxy's own endpoints under /-/. */
export function internalRoutes(rt: Runtime): (path: string[], c: Ctx) => Promise<Response | undefined> {
  const metrics = metricsRoute(rt);
  return async (path, c) => {
    if (path[0] === 'internal') return internalRequest(rt, path.slice(1), c);
    const route = path.join('/');
    const method = c.env?.incoming?.method ?? c.req.method;
    const read = method === 'GET' || method === 'HEAD';
    if (route === 'ready' && read) {
      const r = await readiness(rt);
      return c.json({ status: r.ready ? 'ready' : 'not ready', checks: r.checks }, r.ready ? 200 : 503, { 'cache-control': 'no-store' });
    }
    if (route === 'health' && read) {
      // liveness: 200 as soon as the server is up, whatever the state or the bucket say (see /-/ready)
      const totals = await rt.content.blobs.totals().catch(() => undefined);
      return c.json({
        status: 'ok',
        version: VERSION,
        // unauthenticated: clean upstream URLs (credentials were split off), no local paths (the log has the reason)
        remotes: [...rt.config.remotes.values()].map((r) => ({ name: r.name, type: r.type, upstream: r.upstreams, ...(r.unavailable ? { unavailable: 'disabled; the reason is in the server log' } : {}) })),
        blobs: totals ? { count: totals.count, bytes: totals.bytes } : 'unavailable; see /-/ready',
        activeDownloads: rt.content.fills.active,
      }, 200, { 'cache-control': 'no-store' });
    }
    if (route === 'metrics' && read) return metrics(c);
    if (route === 'status.json' && read) return c.json(await buildStatus(rt), 200, { 'cache-control': 'no-store' });
    if (route === 'status' && read) return c.html(renderStatusPage(await buildStatus(rt)), 200, { 'cache-control': 'no-store' });
    if (route === 'keys/mirror.asc' && read) {
      return c.body(rt.signer.publicKeyArmored, 200, { 'content-type': 'application/pgp-keys', 'cache-control': 'public, max-age=3600' });
    }
    if (route === 'keys/mirror.gpg' && read) {
      return c.body(new Uint8Array(rt.signer.publicKeyBinary), 200, { 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=3600' });
    }
    const exp = /^api\/remotes\/([^/]+)\/export$/.exec(route);
    if (exp && read) {
      requireAdmin(rt, c);
      return exportResponse(rt, exp[1]!, new URL(c.req.url).searchParams, { head: method === 'HEAD' });
    }
    return (await checkpointApi(rt, route, method, c)) ?? (await setupRoutes(rt, route, method, c));
  };
}
