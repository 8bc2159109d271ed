import { timingSafeEqual } from 'node:crypto';
import type { AuthRequirement } from './types.ts';

/** The Authorization header value that satisfies `auth`. */
export function expectedAuthorization(auth: AuthRequirement): string {
  if ('bearer' in auth) return `Bearer ${auth.bearer}`;
  return `Basic ${Buffer.from(`${auth.basic.username}:${auth.basic.password}`).toString('base64')}`;
}

/** True when no credentials are demanded, or the request carries exactly the right ones. */
export function authorized(auth: AuthRequirement | undefined, header: string | undefined): boolean {
  if (!auth) return true;
  const want = Buffer.from(expectedAuthorization(auth));
  const got = Buffer.from(header ?? '');
  return got.length === want.length && timingSafeEqual(got, want);
}
