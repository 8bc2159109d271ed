import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { RepointError } from '../errors.ts';
import { resolveCheckpoint } from '../formats/checkpoint-time.ts';
import { repositoryTypes } from '../registry.ts';
import type { Runtime } from '../runtime.ts';
import { requireAdmin } from './admin.ts';

type Ctx = Context<{ Bindings: HttpBindings }>;

const LIST = /^api\/remotes\/([^/]+)\/checkpoints$/;
const ONE = /^api\/remotes\/([^/]+)\/checkpoints\/([^/]+)$/;

/**
 * `/-/api/remotes/<r>/checkpoints` (GET list, POST create) and `/-/api/remotes/<r>/checkpoints/<TS>`
 * (GET: the manifest's summary, apt's left-out files with reasons). URLs in answers are built from
 * runtime.publicUrl(), never from the request's Host.
 */
export async function checkpointApi(rt: Runtime, route: string, method: string, c: Ctx): Promise<Response | undefined> {
  const list = LIST.exec(route);
  const one = list ? undefined : ONE.exec(route);
  const remote = (list ?? one)?.[1];
  if (remote === undefined) return undefined;
  if (!rt.config.remotes.has(remote)) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${remote}"`);
  const base = rt.publicUrl();
  const read = method === 'GET' || method === 'HEAD';
  if (one) {
    if (!read) throw new RepointError('METHOD_NOT_ALLOWED', `method ${method} not allowed here; use GET`);
    return detail(rt, c, remote, one[2]!, base);
  }
  if (read) {
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

/** One checkpoint: exact → 200, a time between checkpoints → 301 to the earlier one, else 404 (as the tree does). */
async function detail(rt: Runtime, c: Ctx, remote: string, ts: string, base: string): Promise<Response> {
  const entries = await rt.checkpoints.catalogue.list(remote);
  const r = resolveCheckpoint(entries.map((e) => e.ts), ts, new Date());
  if (r.kind === 'earlier') {
    return c.body(null, 301, { location: `/-/api/remotes/${remote}/checkpoints/${r.ts}`, 'cache-control': 'public, max-age=300' });
  }
  if (r.kind !== 'exact') throw new RepointError('CHECKPOINT_NOT_FOUND', `remote ${remote} has no checkpoint ${ts} (${r.kind})`);
  const entry = entries.find((e) => e.ts === r.ts)!;
  const m = await rt.checkpoints.catalogue.manifest(entry.manifest);
  const type = [...repositoryTypes.values()].find((t) => t.name === m.type);
  return c.json({
    remote, type: m.type, ts: m.ts, createdAt: m.createdAt, signer: m.signer, url: `${base}/${remote}/${m.ts}/`,
    manifest: entry.manifest, files: entry.files, bytes: entry.bytes,
    ...(m.packages !== undefined ? { packages: m.packages } : {}),
    ...(type ? type.summarize(m) : {}),
  }, 200, { 'cache-control': 'no-cache' });
}
