import { timingSafeEqual } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import type { Context } from 'hono';
import { RepointError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';

/** True when the request carries `Authorization: Bearer <token>` (compared in constant time). */
export function hasBearer(c: Context<{ Bindings: HttpBindings }>, token: string): boolean {
  const given = /^Bearer (.+)$/i.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Refuses the request unless it carries `Authorization: Bearer <admin.token>`. */
export function requireAdmin(rt: Runtime, c: Context<{ Bindings: HttpBindings }>): void {
  const token = rt.config.admin.token;
  if (!token) throw new RepointError('UNAUTHORIZED', 'the admin API is disabled: set admin.token in the config (or REPOINT_ADMIN_TOKEN)');
  if (!hasBearer(c, token)) throw new RepointError('UNAUTHORIZED', 'missing or wrong admin token (Authorization: Bearer <admin.token>)');
}
