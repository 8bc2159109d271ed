import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { RepointError } from '../errors.ts';
import { repositoryTypes } from '../registry.ts';
import type { Runtime } from '../runtime.ts';
import type { RemoteConfig } from '../config/types.ts';
import type { RepositoryType } from '../repository-type.ts';

/**
 * `GET /-/setup/<type>` (apt, yum): copy-paste client configuration for every remote of that type, as
 * text/plain. Written for runtime.publicUrl(): a forged Host header changes nothing.
 */
export async function setupRoutes(rt: Runtime, route: string, method: string, c: Context<{ Bindings: HttpBindings }>): Promise<Response | undefined> {
  const m = /^setup\/([a-z]+)$/.exec(route);
  if (!m) return undefined;
  if (method !== 'GET' && method !== 'HEAD') throw new RepointError('METHOD_NOT_ALLOWED', `method ${method} not allowed here; use GET`);
  const type = [...repositoryTypes.values()].find((t) => t.name === m[1]);
  if (!type) throw new RepointError('NOT_FOUND', `no setup page for "${m[1]}"; try ${[...repositoryTypes.keys()].map((t) => `/-/setup/${t}`).join(' or ')}`);
  const text = await setupText(rt, type, [...rt.config.remotes.values()].filter((r) => r.type === type.name));
  return c.body(text, 200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-cache' });
}

/**
 * The type's client setup for `remotes`, pinned examples naming the newest checkpoint, or `pinTo`
 * (the status page shows it per checkpoint).
 */
export function setupText(rt: Runtime, type: RepositoryType, remotes: readonly RemoteConfig[], pinTo?: string): Promise<string> {
  return type.clientSetup({
    baseUrl: rt.publicUrl(),
    remotes,
    live: (name) => rt.live.get(name),
    newestCheckpoint: async (name) => pinTo ?? (await rt.checkpoints.catalogue.list(name)).at(-1)?.ts,
  });
}
