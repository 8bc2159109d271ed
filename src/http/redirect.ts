import { IMMUTABLE, type Reply } from '../serve/reply.ts';

/** Signs a URL of the blob's object for `method`; undefined when the bucket does not have it (serve it here). */
export type BlobRedirect = (sha256: string, method: 'GET' | 'HEAD') => Promise<string | undefined>;

/**
 * Pool files and by-hash blobs (apt pool/ and by-hash/, yum packages and hash-named repodata), in
 * live and checkpoint views. Signed metadata (InRelease, Release.gpg, repomd.xml and its .asc) never
 * matches: repoint always serves what it signs or verifies as a whole.
 */
const CONTENT = /(?:^|\/)(?:pool|by-hash)\/|\.rpm$|(?:^|\/)repodata\/[0-9a-f]{64}-[^/]+$/;

export function redirectable(path: string): boolean {
  return CONTENT.test(path);
}

/**
 * The 302 for a hit that object storage can serve directly (blobs.redirect: true), or undefined to
 * serve it here. Conditional requests are answered here (a 304 costs less than a redirect).
 */
export async function blobRedirect(redirect: BlobRedirect | undefined, path: string, method: string, reply: Reply, conditional: boolean): Promise<Response | undefined> {
  if (!redirect || conditional || (reply.status ?? 200) !== 200 || reply.cacheControl !== IMMUTABLE || !redirectable(path)) return undefined;
  const body = reply.body;
  const sha256 = body.kind === 'blob' ? body.sha256 : body.kind === 'bytes' ? body.sha256 : undefined;
  if (!sha256 || (method !== 'GET' && method !== 'HEAD')) return undefined;
  const location = await redirect(sha256, method);
  if (!location) return undefined;
  // the URL expires: the redirect itself is never cached
  return new Response(null, { status: 302, headers: { location, 'cache-control': 'no-store' } });
}
