import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpgKey } from '../../test/fixtures/gpg.ts';
import type { GpgKey } from '../../test/fixtures/gpg.ts';
import { run } from '../../test/helpers/run.ts';
import { isRepointError } from '../errors.ts';
import { loadKeyring } from './keyring.ts';

let a: GpgKey;
let bFpr: string;
let dir: string;

beforeAll(async () => {
  a = await createGpgKey('keyring A');
  // a second key in the same home, so one `gpg --export A B` yields concatenated certificates
  await a.gpg(['--quick-generate-key', 'keyring B <b@repoint.invalid>', 'rsa2048', 'sign', 'never']);
  const listing = await a.gpg(['--with-colons', '--list-keys', 'keyring B']);
  const fpr = listing.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9];
  if (!fpr) throw new Error('no fingerprint for key B');
  bFpr = fpr;
  dir = await mkdtemp(join(tmpdir(), 'repoint-keyring-'));
});

afterAll(async () => {
  await disposeGpgHome(a.home);
  await rm(dir, { recursive: true, force: true });
});

/** Stops the gpg-agent that gpg started for a throwaway home, then removes the home. */
async function disposeGpgHome(home: string): Promise<void> {
  await run('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home }, allowFail: true });
  await rm(home, { recursive: true, force: true });
}

async function expectConfigError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRepointError(err, 'CONFIG_INVALID')).toBe(true);
  expect((err as Error).message).toMatch(message);
}

describe('loadKeyring', () => {
  it('loads a binary keyring of several concatenated certificates', async () => {
    const path = join(dir, 'ab.gpg');
    await a.gpg(['--output', path, '--export', a.fingerprint, bFpr]);
    const ring = await loadKeyring([path]);
    expect(ring.keys).toHaveLength(2);
    expect([...ring.fingerprints].sort()).toEqual([a.fingerprint, bFpr].sort());
    expect(ring.describe()).toContain(path);
    expect(ring.describe()).toContain(bFpr);
  });

  it('loads an armored file holding several key blocks and surrounding text', async () => {
    const armoredA = await a.gpg(['--armor', '--export', a.fingerprint]);
    const armoredB = await a.gpg(['--armor', '--export', bFpr]);
    const path = join(dir, 'ab.asc');
    await writeFile(path, `Keys of the example archive\n\n${armoredA}\n${armoredB}`);
    const ring = await loadKeyring([path]);
    expect(ring.fingerprints).toEqual([a.fingerprint, bFpr]);
  });

  it('combines several files in order and keeps only public keys', async () => {
    const secret = join(dir, 'a-secret.gpg');
    await a.gpg(['--output', secret, '--export-secret-keys', a.fingerprint]);
    const ring = await loadKeyring([a.publicKeyArmoredPath, secret, a.publicKeyPath]);
    expect(ring.fingerprints).toEqual([a.fingerprint, a.fingerprint, a.fingerprint]);
    expect(ring.keys.every((k) => !k.isPrivate())).toBe(true);
  });

  it('refuses a GnuPG keybox and says how to export it', async () => {
    const kbx = join(a.home, 'pubring.kbx');
    expect(new TextDecoder().decode((await readFile(kbx)).subarray(8, 12))).toBe('KBXf');
    await expectConfigError(loadKeyring([kbx]), /keybox.*gpg .*--export/);
  });

  it('reports a missing file by path', async () => {
    const path = join(dir, 'absent.gpg');
    await expectConfigError(loadKeyring([a.publicKeyPath, path]), new RegExp(`keyring file not found: ${path}$`));
  });

  it('refuses files that hold no keys', async () => {
    const junk = join(dir, 'junk.gpg');
    await writeFile(junk, new Uint8Array([0x99, 0x01, 0x02, 0x03, 0x04]));
    await expectConfigError(loadKeyring([junk]), /not an OpenPGP keyring/);
    const text = join(dir, 'text.asc');
    await writeFile(text, 'no keys here\n');
    await expectConfigError(loadKeyring([text]), /no PGP PUBLIC KEY BLOCK/);
    await expectConfigError(loadKeyring([]), /no keyring files/);
  });
});
