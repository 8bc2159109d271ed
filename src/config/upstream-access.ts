/**
 * How a remote reaches its upstream (issue 8, findings 1 and 8): credentials (URL userinfo or
 * `auth`), a client TLS certificate (`tls`) and the hosts redirects may lead to (`redirectHosts`).
 * Credentials are split out of the upstream URLs here, so every URL the rest of repoint holds (for
 * /-/health, messages, logs, forward-proxy matching) is clean.
 */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { splitUserinfo } from '../formats/http/redact.ts';
import { got, oneOrMany, strict, text } from './fields.ts';

const oneOf = (a: string, b: string) => (v: Record<string, unknown>) => (v[a] === undefined) !== (v[b] === undefined);

const basic = strict({
  type: z.literal('basic'),
  username: text().describe('User name for HTTP Basic authentication.'),
  password: text().optional().describe('The password, inline. Prefer passwordFile.'),
  passwordFile: text().optional().describe('A file holding the password (trailing newline ignored); relative to this file.'),
}).refine(oneOf('password', 'passwordFile'), { error: 'set exactly one of password or passwordFile' });

const bearer = strict({
  type: z.literal('bearer'),
  token: text().optional().describe('The token, inline. Prefer tokenFile.'),
  tokenFile: text().optional().describe('A file holding the token (trailing newline ignored); relative to this file.'),
}).refine(oneOf('token', 'tokenFile'), { error: 'set exactly one of token or tokenFile' });

const HOST = /^(?:\*\.)?[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?$|^\[[0-9a-f:.]+\]$/;

export const upstreamAccess = {
  auth: z.discriminatedUnion('type', [basic, bearer], {
    error: (iss) => iss.code === 'invalid_union'
      ? `expected basic | bearer, got ${got(typeof iss.input === 'object' && iss.input !== null ? (iss.input as { type?: unknown }).type : undefined)}`
      : 'expected a mapping with type: basic (username, password or passwordFile) or type: bearer (token or tokenFile)',
  })
    .optional()
    .describe('Credentials sent to the upstream origins (Authorization header), never to a redirect target on another origin. Alternatively put user:password in the upstream URL.'),
  tls: strict({
    cert: text().optional().describe('PEM client certificate file, for upstreams that require one (mTLS).'),
    key: text().optional().describe('PEM private key file of the client certificate.'),
    ca: text().optional().describe('PEM CA bundle that signs the upstream\'s server certificate; replaces the system CAs for this remote.'),
  }).refine((t) => (t.cert === undefined) === (t.key === undefined), { error: 'set cert and key together' })
    .optional()
    .describe('TLS settings for https upstreams: a client certificate (cert + key) and/or a private CA (ca). Paths are relative to this file.'),
  redirectHosts: oneOrMany(text().transform((h) => h.toLowerCase()).pipe(z.string().regex(HOST, { error: 'expected a host name like "cdn.mirror.example" or "*.cdn.mirror.example" (no scheme, no port)' })))
    .prefault([])
    .describe('Hosts (besides the upstream\'s own origin) that upstream redirects may lead to, e.g. a mirror network\'s CDN hosts; "*.example.net" allows its subdomains. Only verified content follows them; content no verified metadata covers follows same-origin redirects only.'),
};

type Basic = z.output<typeof basic>;
type Bearer = z.output<typeof bearer>;
/** What to authenticate one upstream with. */
export type UpstreamAuth = Basic | Bearer;
export type UpstreamTls = { cert?: string; key?: string; ca?: string };

interface AccessInput {
  upstream: string[];
  auth?: UpstreamAuth | undefined;
  tls?: UpstreamTls | undefined;
  redirectHosts: string[];
}

/** Clean upstream URLs, the credentials for each (same order), TLS files and redirect hosts. */
export function accessOf(r: AccessInput) {
  const split = r.upstream.map(splitUserinfo);
  return {
    upstreams: split.map((s) => s.url),
    upstreamAuth: split.map((s): UpstreamAuth | undefined =>
      s.userinfo ? { type: 'basic', username: s.userinfo.username, password: s.userinfo.password } : r.auth),
    ...(r.tls ? { tls: r.tls } : {}),
    redirectHosts: r.redirectHosts,
  };
}

/** URL credentials and `auth` together are ambiguous: refuse, naming the key. */
export function checkOneCredentialSource(r: { upstream?: string[] | undefined; auth?: unknown }, ctx: z.RefinementCtx): void {
  if (r.auth === undefined) return;
  const i = (r.upstream ?? []).findIndex((u) => splitUserinfo(u).userinfo !== undefined);
  if (i >= 0) ctx.addIssue({ code: 'custom', path: ['upstream', i], message: 'carries user:password and auth is set too; use one of them' });
}

/** Resolves the access files against the config file's directory. */
export function resolveAccessFiles(r: { upstreamAuth: Array<UpstreamAuth | undefined>; tls?: UpstreamTls }, rel: (p: string) => string) {
  const upstreamAuth = r.upstreamAuth.map((a): UpstreamAuth | undefined => {
    if (a?.type === 'basic' && a.passwordFile) return { ...a, passwordFile: rel(a.passwordFile) };
    if (a?.type === 'bearer' && a.tokenFile) return { ...a, tokenFile: rel(a.tokenFile) };
    return a;
  });
  const t = r.tls;
  const tls: UpstreamTls | undefined = t && {
    ...(t.cert ? { cert: rel(t.cert) } : {}), ...(t.key ? { key: rel(t.key) } : {}), ...(t.ca ? { ca: rel(t.ca) } : {}),
  };
  return { upstreamAuth, ...(tls ? { tls } : {}) };
}

/** The first access file that does not exist, as "key: file not found: path" (disables only the remote). */
export function missingAccessFile(name: string, r: { upstreamAuth: Array<UpstreamAuth | undefined>; tls?: UpstreamTls }): string | undefined {
  const files: Array<[string, string | undefined]> = [];
  for (const a of r.upstreamAuth) {
    if (a?.type === 'basic') files.push(['auth.passwordFile', a.passwordFile]);
    if (a?.type === 'bearer') files.push(['auth.tokenFile', a.tokenFile]);
  }
  for (const k of ['cert', 'key', 'ca'] as const) files.push([`tls.${k}`, r.tls?.[k]]);
  for (const [key, file] of files) {
    if (file !== undefined && !existsSync(file)) return `remotes.${name}.${key}: file not found: ${file}`;
  }
  return undefined;
}
