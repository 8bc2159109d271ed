import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/run.ts';
import { loadOrCreateSigner } from '../../src/trust/signer.ts';
import type { Signer } from '../../src/trust/signer.ts';

// apt-get itself, on a file: repository signed by the mirror key: the signatures must satisfy apt, not only gpgv.
let root: string;
let suite: string;
let signer: Signer;
let release: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'repoint-apt-sign-'));
  suite = join(root, 'repo', 'dists', 'stable');
  await mkdir(join(suite, 'main', 'binary-amd64'), { recursive: true });
  const packages = 'Package: hello\nVersion: 1.0\nArchitecture: amd64\nFilename: pool/h/hello.deb\nSize: 1\nSHA256: 00\n\n';
  await writeFile(join(suite, 'main', 'binary-amd64', 'Packages'), packages);
  const sha256 = createHash('sha256').update(packages).digest('hex');
  release = [
    'Origin: repoint-test',
    'Suite: stable',
    'Codename: stable',
    `Date: ${new Date(Date.now() - 60_000).toUTCString()}`,
    'Architectures: amd64',
    'Components: main',
    'SHA256:',
    ` ${sha256} ${Buffer.byteLength(packages)} main/binary-amd64/Packages`,
    '',
  ].join('\n');
  await writeFile(join(suite, 'Release'), release);
  signer = await loadOrCreateSigner(join(root, 'key', 'mirror.key'));
  await writeFile(join(root, 'mirror.gpg'), signer.publicKeyBinary);
  for (const d of ['etc/apt.conf.d', 'etc/preferences.d', 'etc/sources.list.d', 'cache/archives/partial']) {
    await mkdir(join(root, d), { recursive: true });
  }
  await writeFile(join(root, 'etc', 'sources.list'), `deb [signed-by=${join(root, 'mirror.gpg')}] file:${join(root, 'repo')} stable main\n`);
  await writeFile(join(root, 'status'), '');
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** `apt-get update`, then whether apt now knows the package from the signed index. */
async function aptUpdate(): Promise<{ code: number; output: string; lists: string[]; knowsPackage: boolean }> {
  const state = join(root, 'state');
  await rm(state, { recursive: true, force: true });
  await mkdir(join(state, 'lists', 'partial'), { recursive: true });
  const options = [
    '-o', `Dir::Etc=${join(root, 'etc')}`,
    '-o', `Dir::State=${state}`,
    '-o', `Dir::State::status=${join(root, 'status')}`,
    '-o', `Dir::Cache=${join(root, 'cache')}`,
    '-o', 'APT::Sandbox::User=root',
  ];
  const res = await run('apt-get', [...options, 'update'], { allowFail: true });
  const show = await run('apt-cache', [...options, 'show', 'hello'], { allowFail: true });
  return {
    code: res.code,
    output: res.stdout + res.stderr,
    lists: await readdir(join(state, 'lists')),
    knowsPackage: show.code === 0 && show.stdout.includes('Package: hello'),
  };
}

describe('apt accepts the mirror signatures', () => {
  it('accepts a clearsigned InRelease', async () => {
    await writeFile(join(suite, 'InRelease'), await signer.clearsign(release));
    const res = await aptUpdate();
    expect(res.code, res.output).toBe(0);
    expect(res.output).not.toMatch(/^(W|E):/m);
    expect(res.lists.some((f) => f.endsWith('_InRelease'))).toBe(true);
    expect(res.knowsPackage).toBe(true);
  });

  it('accepts Release with an armored Release.gpg over its exact bytes', async () => {
    await rm(join(suite, 'InRelease'), { force: true });
    await writeFile(join(suite, 'Release.gpg'), await signer.detachSignArmored(new TextEncoder().encode(release)));
    const res = await aptUpdate();
    expect(res.code, res.output).toBe(0);
    expect(res.output).not.toMatch(/^(W|E):/m);
    expect(res.lists.some((f) => f.endsWith('_Release.gpg'))).toBe(true);
    expect(res.knowsPackage).toBe(true);
  });
});
