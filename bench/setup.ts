import { accessSync, constants } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { createGpgKey, type GpgKey } from '../test/fixtures/gpg.ts';
import type { Procs } from './procs.ts';

// nginx lives in /usr/sbin, which a non-login PATH may lack
function findTool(name: string): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']) {
    if (dir === '') continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // try the next dir
    }
  }
  return undefined;
}

export function toolPath(name: string): string {
  const found = findTool(name);
  if (!found) throw new Error(`${name} not found on PATH`);
  return found;
}

const onPath = (name: string): boolean => findTool(name) !== undefined;

/** Installs nginx and wrk with apt-get, only when one is missing. */
export async function ensureTools(procs: Procs, log: (line: string) => void): Promise<void> {
  const missing = ['nginx', 'wrk'].filter((t) => !onPath(t));
  if (missing.length === 0) return;
  log(`installing ${missing.join(', ')} with apt-get`);
  const update = await procs.exec('apt-get', ['update'], 300_000);
  if (update.code !== 0) throw new Error(`apt-get update failed:\n${update.stderr}`);
  const pkgs = missing.map((t) => (t === 'nginx' ? 'nginx-light' : t));
  let res = await procs.exec('apt-get', ['install', '-y', ...pkgs], 300_000);
  if (res.code !== 0 && pkgs.includes('nginx-light')) {
    // newer releases dropped nginx-light; the full package serves static files just as well
    res = await procs.exec('apt-get', ['install', '-y', ...pkgs.map((p) => (p === 'nginx-light' ? 'nginx' : p))], 300_000);
  }
  if (res.code !== 0) throw new Error(`apt-get install failed:\n${res.stderr}`);
  const still = ['nginx', 'wrk'].filter((t) => !onPath(t));
  if (still.length) throw new Error(`still missing after install: ${still.join(', ')}`);
}

/** A temp work dir and a signing key for the fixtures, both removed (the key's gpg-agent stopped) at cleanup. */
export async function benchWorkspace(procs: Procs, prefix: string): Promise<{ work: string; key: GpgKey }> {
  const work = await mkdtemp(join(tmpdir(), prefix));
  procs.addDir(work);
  const key = await createGpgKey('repoint bench');
  procs.addDir(key.home);
  procs.onCleanup(async () => void (await procs.exec('gpgconf', ['--homedir', key.home, '--kill', 'gpg-agent'])));
  return { work, key };
}
