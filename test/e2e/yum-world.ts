import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseRepomd, type Repomd } from '../../src/yum/formats/repomd.ts';
import { buildYumRepo, type BuildYumRepoOptions, type YumPackage, type YumPackageSpec, type YumRepo } from '../fixtures/yum-repo.ts';
import { createGpgKey, type GpgKey } from '../fixtures/gpg.ts';
import { createDnfClient, type DnfClient } from '../helpers/dnf-client.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { run } from '../helpers/run.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

export const YUM_TOOLS = ['dnf', 'rpmbuild', 'createrepo_c', 'gpg'];

/** One ~5 MB package, one with `~` in its version, one with `+`. */
export const YUM_PACKAGES: YumPackageSpec[] = [
  { name: 'bigpkg', version: '1.0', sizeBytes: 5 * 1024 * 1024 },
  { name: 'tildepkg', version: '1.0~rc1' },
  { name: 'pluspkg', version: '2.0+git1', release: '3' },
];

/** A signed yum fixture, the controllable upstream serving it, and repoint with a yum remote in front. */
export interface YumWorld {
  key: GpgKey;
  repo: YumRepo;
  upstream: Upstream;
  proxy: TestProxy;
  remote: string;
  /** `<proxy>/<remote>` */
  base: string;
  /** A dnf with its own fresh cachedir, checking repomd.xml.asc with the fixture key. */
  client(opts?: { path?: string; gpgkey?: string }): Promise<DnfClient>;
  /** The repomd.xml upstream currently publishes. */
  repomd(): Promise<Repomd>;
  /** `dnf download` of these packages with a fresh destdir: file name -> sha256. */
  download(client: DnfClient, names: readonly string[]): Promise<{ code: number; output: string; files: Map<string, string> }>;
  close(): Promise<void>;
}

export async function startYumWorld(opts: { remote?: Record<string, unknown>; packages?: YumPackageSpec[]; extra?: Record<string, unknown>; checksum?: BuildYumRepoOptions['checksum'] } = {}): Promise<YumWorld> {
  const key = await createGpgKey();
  const repo = await buildYumRepo({ key, packages: opts.packages ?? YUM_PACKAGES, ...(opts.checksum ? { checksum: opts.checksum } : {}) });
  const upstream = await startUpstream({ root: repo.root });
  const remote = 'el';
  const proxy = await startProxy({ remotes: { [remote]: { type: 'yum', upstream: upstream.url, keyring: key.publicKeyArmoredPath, ...opts.remote } }, ...(opts.extra ? { extra: opts.extra } : {}) });
  const clients: DnfClient[] = [];
  const temps: string[] = [];
  return {
    key, repo, upstream, proxy, remote,
    // a getter: a restart listens on a new port
    get base() { return `${proxy.url}/${remote}`; },
    client: async (o = {}) => {
      const c = await createDnfClient({
        repoId: 'repoint', baseurl: `${proxy.url}/${o.path ?? remote}/`, gpgkey: o.gpgkey ?? `file://${key.publicKeyArmoredPath}`, repoGpgcheck: true,
        // dnf's retries=0 means "forever"; one retry keeps failure tests short
        setopts: ['retries=1', 'timeout=30'],
      });
      clients.push(c);
      return c;
    },
    repomd: async () => parseRepomd(await readFile(join(upstream.root, 'repodata', 'repomd.xml'), 'utf8')),
    download: async (client, names) => {
      const dir = await mkdtemp(join(tmpdir(), 'repoint-yumdl-'));
      temps.push(dir);
      const res = await client.download(names, dir);
      const files = new Map<string, string>();
      for (const f of await readdir(dir)) files.set(f, sha256(await readFile(join(dir, f))));
      return { code: res.code, output: res.stdout + res.stderr, files };
    },
    close: async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await proxy.close();
      await upstream.stop();
      await run('gpgconf', ['--homedir', key.home, '--kill', 'gpg-agent'], { allowFail: true });
      // retries: an exiting gpg-agent can still remove its sockets while rm walks the home
      for (const d of [...temps, repo.root, key.home]) await rm(d, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export function rpmName(p: YumPackage): string {
  return `${p.nevra}.rpm`;
}

/** A copy of the upstream tree as it is now (to serve an older generation later). */
export async function snapshotTree(root: string): Promise<string> {
  const dest = await mkdtemp(join(tmpdir(), 'repoint-yumsnap-'));
  await run('cp', ['-a', `${root}/.`, dest]);
  return dest;
}
