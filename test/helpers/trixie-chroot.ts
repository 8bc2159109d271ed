import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { e2eRequired, requireTools } from './e2e.ts';
import { run, type RunResult } from './run.ts';

/**
 * A Debian trixie chroot (apt >= 2.7) built once by .ci/run with `debootstrap --variant=minbase`,
 * outside the tests; the host's apt may be older. REPOINT_TRIXIE_CHROOT overrides the path.
 */
export const TRIXIE_CHROOT = process.env['REPOINT_TRIXIE_CHROOT'] ?? '/var/cache/repoint-ci/trixie';

/** The chroot's directory that each apt run bind-mounts its private files onto (in its own mount namespace). */
const MOUNT_POINT = '/mnt';

/** `describe` for suites that run apt inside the trixie chroot: skipped with a message when it is missing, failed under REPOINT_E2E=required. */
export function describeTrixie(title: string, fn: () => void): void {
  const tools = requireTools(['unshare', 'mount', 'chroot']);
  const missing = !existsSync(join(TRIXIE_CHROOT, 'usr/bin/apt')) ? `no Debian trixie chroot at ${TRIXIE_CHROOT} (REPOINT_TRIXIE_CHROOT); .ci/run builds it with debootstrap` : tools.reason;
  if (!missing) {
    describe(title, fn);
    return;
  }
  if (e2eRequired()) {
    describe(title, () => test('the trixie chroot is available', () => expect.unreachable(`REPOINT_E2E=required but ${missing}`)));
    return;
  }
  console.warn(`skipping e2e suite "${title}": ${missing} (set REPOINT_E2E=required to fail instead)`);
  describe.skipIf(true)(title, fn);
}

export interface ChrootApt {
  /** the host directory mounted at /mnt inside the chroot */
  readonly dir: string;
  /** runs `apt <args>` in the chroot with this client's private configuration; never throws */
  apt(args: readonly string[]): Promise<RunResult>;
  /** the .deb files apt downloaded (host paths) */
  archives(): string;
  cleanup(): Promise<void>;
}

/**
 * apt inside the chroot, with its own sources, keyring, state and cache in a temp dir. Each run
 * enters a new mount namespace (unshare), bind-mounts that dir onto the chroot's /mnt and chroots:
 * the mount disappears with the process, the chroot itself is never written, and the chroot shares
 * the host network namespace, so 127.0.0.1 is the test's loopback.
 */
export async function createChrootApt(opts: { sources: string; keyring: Uint8Array; proxy: string }): Promise<ChrootApt> {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-chroot-apt-'));
  await chmod(dir, 0o755);
  for (const d of ['state/lists/partial', 'cache/archives/partial', 'sources.list.d', 'apt.conf.d', 'preferences.d', 'trusted.gpg.d', 'keyrings', 'log']) {
    await mkdir(join(dir, d), { recursive: true });
  }
  const m = (p: string): string => `${MOUNT_POINT}/${p}`;
  await writeFile(join(dir, 'state/status'), '');
  await writeFile(join(dir, 'sources.list'), '');
  await writeFile(join(dir, 'keyrings/repoint.gpg'), opts.keyring);
  await writeFile(join(dir, 'sources.list.d/repoint.sources'), opts.sources);
  const conf: Record<string, string> = {
    'Dir::State': m('state'), 'Dir::State::Lists': m('state/lists'), 'Dir::State::status': m('state/status'),
    'Dir::Cache': m('cache'), 'Dir::Cache::Archives': m('cache/archives'),
    'Dir::Etc::SourceList': m('sources.list'), 'Dir::Etc::SourceParts': m('sources.list.d'), 'Dir::Etc::Parts': m('apt.conf.d'),
    'Dir::Etc::Preferences': m('preferences'), 'Dir::Etc::PreferencesParts': m('preferences.d'),
    'Dir::Etc::Trusted': m('trusted.gpg'), 'Dir::Etc::TrustedParts': m('trusted.gpg.d'), 'Dir::Log': m('log'),
    'APT::Architecture': 'amd64', 'APT::Architectures': 'amd64', 'Debug::NoLocking': '1', 'Acquire::Languages': 'none',
    'Acquire::Retries': '0', 'Acquire::http::Proxy': opts.proxy, 'APT::Sandbox::User': 'root',
  };
  await writeFile(join(dir, 'apt.conf'), Object.entries(conf).map(([k, v]) => `${k} "${v}";\n`).join(''));
  const env: NodeJS.ProcessEnv = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C.UTF-8', DEBIAN_FRONTEND: 'noninteractive', APT_CONFIG: m('apt.conf') };
  // $1: host dir, $2: chroot; the rest is the command. The namespace (and so the mount) ends with the process.
  const script = 'set -e; mount --bind "$1" "$2$3"; root=$2; shift 3; exec chroot "$root" "$@"';
  return {
    dir,
    apt: (args) => run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', dir, TRIXIE_CHROOT, MOUNT_POINT, 'apt', ...args], { env, allowFail: true, timeoutMs: 300_000 }),
    archives: () => join(dir, 'cache/archives'),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
