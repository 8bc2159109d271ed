import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.ts';
import type { RunResult } from './run.ts';

export interface DnfClientOptions {
  repoId: string;
  baseurl: string;
  /** file:// path or http URL of an armored public key */
  gpgkey?: string;
  /** verify repomd.xml.asc; default: true when gpgkey is given */
  repoGpgcheck?: boolean;
  /** verify RPM header signatures; default false (fixture RPMs are unsigned) */
  gpgcheck?: boolean;
  /** dnf's zchunk option; default true (dnf's own default) */
  zchunk?: boolean;
  /** extra `--setopt` values, e.g. `timeout=5` or `retries=0` */
  setopts?: readonly string[];
}

/** A real dnf confined to a temp dir: private config, repos, cache, logs and installroot. */
export interface DnfClient {
  dir: string;
  installroot: string;
  cachedir: string;
  logdir: string;
  /** Runs `dnf <common options> ...args`; never throws on a non-zero exit: check `code`. */
  run(args: readonly string[]): Promise<RunResult>;
  makecache(): Promise<RunResult>;
  /** `dnf download` (dnf-plugins-core) of package specs into destdir */
  download(pkgs: readonly string[], destdir: string): Promise<RunResult>;
  /** URLs librepo logged as downloaded, oldest first */
  downloadedUrls(): Promise<string[]>;
  /** Stops gpg-agents librepo started for repo keys and removes the temp dir. */
  close(): Promise<void>;
}

const PROXY_VARS = ['http_proxy', 'https_proxy', 'ftp_proxy', 'all_proxy', 'no_proxy'];

export async function createDnfClient(opts: DnfClientOptions): Promise<DnfClient> {
  if (!/^[A-Za-z0-9_.:-]+$/.test(opts.repoId)) throw new Error(`invalid repo id: ${opts.repoId}`);
  const dir = await mkdtemp(join(tmpdir(), 'repoint-dnf-'));
  const installroot = join(dir, 'root');
  const reposdir = join(dir, 'repos.d');
  const cachedir = join(dir, 'cache');
  const logdir = join(dir, 'log');
  for (const d of [installroot, reposdir, cachedir, logdir]) await mkdir(d, { recursive: true });

  const repoGpgcheck = opts.repoGpgcheck ?? opts.gpgkey !== undefined;
  const repoLines = [
    `[${opts.repoId}]`,
    `name=${opts.repoId}`,
    `baseurl=${opts.baseurl}`,
    'enabled=1',
    `gpgcheck=${opts.gpgcheck ? 1 : 0}`,
    `repo_gpgcheck=${repoGpgcheck ? 1 : 0}`,
    ...(opts.gpgkey !== undefined ? [`gpgkey=${opts.gpgkey}`] : []),
    'metadata_expire=0',
    'skip_if_unavailable=0',
  ];
  await writeFile(join(reposdir, `${opts.repoId}.repo`), `${repoLines.join('\n')}\n`);
  // our own main config, so the host's /etc/dnf/dnf.conf (skip_if_unavailable=True etc.) does not apply
  const conf = join(dir, 'dnf.conf');
  await writeFile(conf, '[main]\n');

  const common = [
    '-y',
    `--config=${conf}`,
    `--installroot=${installroot}`,
    '--releasever=1',
    `--setopt=reposdir=${reposdir}`,
    `--setopt=cachedir=${cachedir}`,
    `--setopt=logdir=${logdir}`,
    '--setopt=keepcache=1',
    '--setopt=install_weak_deps=0',
    `--setopt=zchunk=${(opts.zchunk ?? true) ? 'True' : 'False'}`,
    ...(opts.setopts ?? []).map((s) => `--setopt=${s}`),
    '--disablerepo=*',
    `--enablerepo=${opts.repoId}`,
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C.UTF-8', LANG: 'C.UTF-8' };
  // loopback tests must not be sent through a proxy from the environment
  for (const k of Object.keys(env)) if (PROXY_VARS.includes(k.toLowerCase())) delete env[k];

  const dnf = (args: readonly string[]): Promise<RunResult> =>
    run('dnf', [...common, ...args], { env, allowFail: true, timeoutMs: 300_000 });

  return {
    dir,
    installroot,
    cachedir,
    logdir,
    run: dnf,
    makecache: () => dnf(['makecache']),
    download: (pkgs, destdir) => dnf(['download', `--destdir=${destdir}`, ...pkgs]),
    downloadedUrls: async () => {
      const log = await readFile(join(logdir, 'dnf.librepo.log'), 'utf8').catch(() => '');
      return [...log.matchAll(/ Downloading: (\S+)/g)].map((m) => m[1] ?? '');
    },
    close: async () => {
      await stopKeyringAgents(cachedir);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** librepo imports repo keys into <cachedir>/<repo>-<hash>/pubring with gpgme, which leaves a gpg-agent behind. */
async function stopKeyringAgents(cachedir: string): Promise<void> {
  const entries = await readdir(cachedir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const home = join(cachedir, e.name, 'pubring');
    await run('gpgconf', ['--homedir', home, '--kill', 'gpg-agent'], { allowFail: true });
  }
}
