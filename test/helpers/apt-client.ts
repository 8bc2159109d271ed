import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from './run.ts';
import type { RunResult } from './run.ts';

export interface AptClientOptions {
  /** one sources.list line, e.g. `deb [signed-by=/k.gpg] http://127.0.0.1:PORT/remote stable main` */
  sourcesLine: string;
  arch?: string;
  /** forward proxy URL for Acquire::http::Proxy; default: direct */
  proxy?: string;
  /** extra apt options, e.g. { 'Acquire::Retries': '0' } */
  options?: Record<string, string>;
}

export interface AptClient {
  /** private root holding state, cache, etc and logs */
  readonly dir: string;
  /** where apt-get update stores indexes */
  readonly listsDir: string;
  readonly archivesDir: string;
  /** environment (APT_CONFIG, no proxy variables) for running apt tools by hand */
  readonly env: NodeJS.ProcessEnv;
  /** apt-get update; never throws on failure: the caller asserts */
  update(): Promise<RunResult>;
  /** apt-get update that throws on a non-zero exit or any W:/E:/Err: line */
  updateStrict(): Promise<RunResult>;
  /** apt-get download into cwd; throws on failure unless allowFail */
  download(pkgs: string[], cwd: string, opts?: { allowFail?: boolean }): Promise<RunResult>;
  /** apt-cache policy output */
  policy(pkg: string): Promise<string>;
  /** the Candidate version from apt-cache policy, undefined when none */
  candidate(pkg: string): Promise<string | undefined>;
  /** any apt-get command with this client's configuration */
  aptGet(args: string[], opts?: { cwd?: string; allowFail?: boolean }): Promise<RunResult>;
  /** replace the sources line */
  setSourcesLine(line: string): Promise<void>;
  cleanup(): Promise<void>;
}

/** apt-get update output lines that mean trouble (apt may still exit 0). */
export function aptProblems(res: RunResult): string[] {
  return `${res.stdout}\n${res.stderr}`.split('\n').filter((l) => /^(W|E|Err):/.test(l));
}

function quote(v: string): string {
  return `"${v.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** A real apt-get running against its own private state, as root, without touching the system's. */
export async function createAptClient(opts: AptClientOptions): Promise<AptClient> {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-apt-client-'));
  const p = (rel: string): string => join(dir, rel);
  for (const d of ['state/lists/partial', 'cache/archives/partial', 'etc/sources.list.d', 'etc/apt.conf.d', 'etc/preferences.d', 'etc/trusted.gpg.d', 'log']) {
    await mkdir(p(d), { recursive: true });
  }
  await writeFile(p('state/status'), '');
  await writeFile(p('etc/preferences'), '');
  const sourceList = p('etc/sources.list');
  await writeFile(sourceList, `${opts.sourcesLine}\n`);
  const arch = opts.arch ?? 'amd64';
  const conf: Record<string, string> = {
    'Dir::State': p('state'),
    'Dir::State::Lists': p('state/lists'),
    'Dir::State::status': p('state/status'),
    'Dir::Cache': p('cache'),
    'Dir::Cache::Archives': p('cache/archives'),
    'Dir::Etc::main': p('etc/apt.conf'),
    'Dir::Etc::SourceList': sourceList,
    'Dir::Etc::SourceParts': p('etc/sources.list.d'),
    'Dir::Etc::Parts': p('etc/apt.conf.d'),
    'Dir::Etc::Preferences': p('etc/preferences'),
    'Dir::Etc::PreferencesParts': p('etc/preferences.d'),
    'Dir::Etc::Trusted': p('etc/trusted.gpg'),
    'Dir::Etc::TrustedParts': p('etc/trusted.gpg.d'),
    'Dir::Log': p('log'),
    'APT::Architecture': arch,
    'APT::Architectures': arch,
    'Debug::NoLocking': '1',
    'Acquire::Languages': 'none',
    'Acquire::http::Proxy': opts.proxy ?? 'DIRECT',
    'Acquire::http::Proxy-Auto-Detect': '',
    // we run as root; the _apt sandbox user cannot read private temp dirs
    'APT::Sandbox::User': 'root',
    ...opts.options,
  };
  const confFile = p('apt.conf');
  await writeFile(confFile, Object.entries(conf).map(([k, v]) => `${k} ${quote(v)};\n`).join(''));
  const env: NodeJS.ProcessEnv = { ...process.env, APT_CONFIG: confFile, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' };
  for (const v of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']) delete env[v];

  const aptGet = (args: string[], o: { cwd?: string; allowFail?: boolean } = {}): Promise<RunResult> =>
    run('apt-get', args, { env, cwd: o.cwd, allowFail: o.allowFail, timeoutMs: 300_000 });
  const policy = async (pkg: string): Promise<string> => (await run('apt-cache', ['policy', pkg], { env })).stdout;

  return {
    dir,
    listsDir: p('state/lists'),
    archivesDir: p('cache/archives'),
    env,
    update: () => aptGet(['update'], { allowFail: true }),
    updateStrict: async () => {
      const res = await aptGet(['update'], { allowFail: true });
      const problems = aptProblems(res);
      if (res.code !== 0 || problems.length > 0) {
        throw new Error(`apt-get update failed (exit ${res.code}):\n${problems.join('\n')}\n${res.stdout}\n${res.stderr}`);
      }
      return res;
    },
    download: (pkgs, cwd, o) => aptGet(['download', ...pkgs], { cwd, allowFail: o?.allowFail }),
    policy,
    candidate: async (pkg) => {
      const m = /^\s*Candidate:\s*(\S+)/m.exec(await policy(pkg));
      return m?.[1] === undefined || m[1] === '(none)' ? undefined : m[1];
    },
    aptGet,
    setSourcesLine: (line) => writeFile(sourceList, `${line}\n`),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
