import { createHash } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAptRepo, type AptPackageSpec, type AptRepo } from '../fixtures/apt-repo.ts';
import type { ReleaseHash } from '../fixtures/apt-indexes.ts';
import { createGpgKey, type GpgKey } from '../fixtures/gpg.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';
import { createAptClient, type AptClient } from './apt-client.ts';
import { startProxy, type TestProxy } from './proxy.ts';
import type { Logger } from '../../src/log.ts';

/** The default fixture: one big .deb, one with + and ~ in its version, one arch:all. */
export const DEFAULT_PACKAGES: AptPackageSpec[] = [
  { name: 'bigpkg', version: '1.0-1', sizeBytes: 6_000_000 },
  { name: 'tildepkg', version: '1.0+dfsg-1~bpo12+1' },
  { name: 'allpkg', version: '2.0', arch: 'all' },
];

/** A signed apt fixture, the controllable upstream serving it, and repoint in front. */
export interface AptWorld {
  key: GpgKey;
  repo: AptRepo;
  upstream: Upstream;
  proxy: TestProxy;
  remote: string;
  /** `<proxy>/<remote>` */
  base: string;
  client(opts?: { signedBy?: string; path?: string }): Promise<AptClient>;
  close(): Promise<void>;
}

export async function startAptWorld(opts: {
  packages?: AptPackageSpec[]; remote?: Record<string, unknown>; key?: GpgKey; extra?: Record<string, unknown>; auxiliary?: boolean;
  /** the digests Packages and Release list (default MD5Sum and SHA256) */
  hashes?: ReleaseHash[];
  /** Release Date and Valid-Until of the fixture */
  date?: Date; validUntil?: Date; log?: Logger;
} = {}): Promise<AptWorld> {
  const key = opts.key ?? (await createGpgKey());
  const repo = await buildAptRepo({
    key, packages: opts.packages ?? DEFAULT_PACKAGES, ...(opts.auxiliary ? { auxiliary: true } : {}), ...(opts.hashes ? { hashes: opts.hashes } : {}),
    ...(opts.date ? { date: opts.date } : {}), ...(opts.validUntil ? { validUntil: opts.validUntil } : {}),
  });
  const upstream = await startUpstream({ root: repo.root });
  const remote = 'deb';
  const proxy = await startProxy({ remotes: { [remote]: { type: 'apt', upstream: upstream.url, keyring: key.publicKeyPath, ...opts.remote } }, ...(opts.extra ? { extra: opts.extra } : {}), ...(opts.log ? { log: opts.log } : {}) });
  const clients: AptClient[] = [];
  return {
    key, repo, upstream, proxy, remote,
    get base() { return `${proxy.url}/${remote}`; },
    client: async (o = {}) => {
      const c = await createAptClient({ sourcesLine: `deb [signed-by=${o.signedBy ?? key.publicKeyPath}] ${proxy.url}/${o.path ?? remote} ${repo.suite} main`, options: { 'Acquire::Retries': '0' } });
      clients.push(c);
      return c;
    },
    close: async () => {
      await Promise.allSettled(clients.map((c) => c.cleanup()));
      await proxy.close();
      await upstream.stop();
    },
  };
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function tempDir(prefix = 'repoint-test-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** The .deb file name apt-get download writes for a package (epoch `:` is encoded as %3a). */
export function debFileName(p: { filename: string }): string {
  return p.filename.slice(p.filename.lastIndexOf('/') + 1);
}
