/**
 * A remote's upstream credentials and TLS client certificate, read from the config (issue 8,
 * finding 8). Secrets read from files stay in this process's memory only: they are never logged,
 * never part of a URL, and sent only to the configured upstream origins.
 */
import { readFile } from 'node:fs/promises';
import type { UpstreamAuth, UpstreamTls } from '../config/types.ts';
import { RepointError } from '../errors.ts';

/** A secret kept in a file (trailing newline dropped); an unreadable file is an error naming `key`. */
export async function readSecretFile(key: string, path: string): Promise<string> {
  try {
    return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new RepointError('CONFIG_INVALID', `${key}: file not readable (${code}): ${path}`, { path }, { cause: err });
  }
}

/** The Authorization header value for `auth`, reading passwordFile/tokenFile. */
export async function authorizationFor(remote: string, auth: UpstreamAuth | undefined): Promise<string | undefined> {
  if (!auth) return undefined;
  if (auth.type === 'bearer') {
    const token = auth.token ?? (await readSecretFile(`remotes.${remote}.auth.tokenFile`, auth.tokenFile ?? ''));
    return `Bearer ${token}`;
  }
  const password = auth.password ?? (await readSecretFile(`remotes.${remote}.auth.passwordFile`, auth.passwordFile ?? ''));
  return `Basic ${Buffer.from(`${auth.username}:${password}`, 'utf8').toString('base64')}`;
}

export interface TlsFiles {
  cert?: Buffer;
  key?: Buffer;
  ca?: Buffer;
}

/** The PEM files of remotes.<name>.tls, read. */
export async function readTlsFiles(remote: string, tls: UpstreamTls): Promise<TlsFiles> {
  const out: TlsFiles = {};
  for (const k of ['cert', 'key', 'ca'] as const) {
    const path = tls[k];
    if (path === undefined) continue;
    try {
      out[k] = await readFile(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new RepointError('CONFIG_INVALID', `remotes.${remote}.tls.${k}: file not readable (${code}): ${path}`, { path }, { cause: err });
    }
  }
  return out;
}
