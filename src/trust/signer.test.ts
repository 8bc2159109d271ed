import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPrivateKey } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../test/helpers/run.ts';
import type { RunResult } from '../../test/helpers/run.ts';
import { loadKeyring } from './keyring.ts';
import { loadOrCreateSigner } from './signer.ts';
import type { Signer } from './signer.ts';
import { verifyClearsigned, verifyDetached } from './verify.ts';

let dir: string;
let keyPath: string;
let pubPath: string;
let signer: Signer;
const logged: string[] = [];

const RELEASE = 'Origin: repoint\nCodename: stable\n-dash first\nSHA256:\n 0123 42 main/binary-amd64/Packages.xz\n';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-signer-'));
  keyPath = join(dir, 'keys', 'nested', 'mirror.key');
  signer = await loadOrCreateSigner(keyPath, { userId: { name: 'repoint test mirror', email: 'mirror@repoint.invalid' }, log: (m) => logged.push(m) });
  pubPath = join(dir, 'mirror.gpg');
  await writeFile(pubPath, signer.publicKeyBinary);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** gpgv with only the mirror's exported binary key, in an empty home. */
async function gpgv(args: string[]): Promise<RunResult> {
  const home = await mkdtemp(join(dir, 'gpgv-'));
  return run('gpgv', ['--keyring', pubPath, ...args], { env: { ...process.env, GNUPGHOME: home }, allowFail: true });
}

describe('loadOrCreateSigner', () => {
  it('creates a private key file with mode 0600 once and reuses it', async () => {
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(logged).toEqual([expect.stringContaining(signer.fingerprint)]);
    const again = await loadOrCreateSigner(keyPath, { log: (m) => logged.push(m) });
    expect(again.fingerprint).toBe(signer.fingerprint);
    expect(again.publicKeyArmored).toBe(signer.publicKeyArmored);
    expect(logged).toHaveLength(1);
    expect(await readdir(join(dir, 'keys', 'nested'))).toEqual(['mirror.key']); // no temp file left
  });

  it('several nodes starting at once on one key file: one creates it, all sign with that key', async () => {
    const shared = join(dir, 'shared', 'mirror.asc');
    const code = `import { loadOrCreateSigner } from ${JSON.stringify(new URL('./signer.ts', import.meta.url).href)};
      const s = await loadOrCreateSigner(process.argv[1], { log: () => console.log('generated') });
      console.log(s.fingerprint);`;
    const nodes = await Promise.all(Array.from({ length: 5 }, () => run(process.execPath, ['--input-type=module', '-e', code, shared])));
    const lines = nodes.map((n) => n.stdout.trim().split('\n'));
    const fingerprints = new Set(lines.map((l) => l.at(-1)));
    expect(fingerprints.size).toBe(1);
    expect(lines.filter((l) => l[0] === 'generated')).toHaveLength(1);
    const key = await readPrivateKey({ armoredKey: await readFile(shared, 'utf8') });
    expect(key.getFingerprint().toUpperCase()).toBe([...fingerprints][0]);
    expect(await readdir(join(dir, 'shared'))).toEqual(['mirror.asc']); // no temp file left
  });

  it('generates an unencrypted v4 EdDSA key created in the past', async () => {
    const key = await readPrivateKey({ armoredKey: await readFile(keyPath, 'utf8') });
    expect(key.isDecrypted()).toBe(true);
    expect(key.keyPacket.version).toBe(4);
    expect(key.getAlgorithmInfo()).toMatchObject({ algorithm: 'eddsaLegacy', curve: 'ed25519Legacy' });
    expect(key.getCreationTime().getTime()).toBeLessThan(Date.now() - 30 * 60 * 1000);
    expect(key.getFingerprint().toUpperCase()).toBe(signer.fingerprint);
    const packets = await run('gpg', ['--list-packets', pubPath], { env: { ...process.env, GNUPGHOME: await mkdtemp(join(dir, 'gpg-')) } });
    expect(packets.stdout).toMatch(/:public key packet:\s+version 4, algo 22/);
    expect(packets.stdout).toContain('repoint test mirror <mirror@repoint.invalid>');
  });

  it('refuses an unusable key file', async () => {
    const bad = join(dir, 'bad.key');
    await writeFile(bad, 'not a key');
    await expect(loadOrCreateSigner(bad)).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });
});

describe('Signer', () => {
  it('clearsigns an InRelease that gpgv accepts, with LF endings and the text intact', async () => {
    const inRelease = await signer.clearsign(RELEASE);
    expect(inRelease).not.toContain('\r');
    expect(inRelease).toMatch(/^-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA\d+\n\nOrigin: repoint\n/);
    expect(inRelease).toContain('\n- -dash first\n');
    expect(inRelease).toContain('main/binary-amd64/Packages.xz\n-----BEGIN PGP SIGNATURE-----\n');
    const file = join(dir, 'InRelease');
    await writeFile(file, inRelease);
    const out = join(dir, 'InRelease.out');
    const res = await gpgv(['--output', out, file]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stderr).toContain('Good signature');
    expect(await readFile(out, 'utf8')).toBe(RELEASE);
    const ring = await loadKeyring([pubPath]);
    expect(await verifyClearsigned(inRelease, ring)).toEqual({ text: RELEASE.replace(/\n$/, ''), signers: [signer.fingerprint] });
  });

  it('makes binary and armored detached signatures that gpgv verifies byte for byte', async () => {
    const data = new Uint8Array([...new TextEncoder().encode('<repomd>\r\n</repomd>\n  \n'), ...randomBytes(300)]);
    const dataPath = join(dir, 'repomd.xml');
    await writeFile(dataPath, data);
    const binary = await signer.detachSign(data);
    expect(binary[0]! & 0x80).toBe(0x80);
    await writeFile(join(dir, 'Release.gpg'), binary);
    const armored = await signer.detachSignArmored(data);
    expect(armored).toMatch(/^-----BEGIN PGP SIGNATURE-----\n/);
    await writeFile(join(dir, 'repomd.xml.asc'), armored);
    for (const sig of ['Release.gpg', 'repomd.xml.asc']) {
      const res = await gpgv([join(dir, sig), dataPath]);
      expect(res.code, res.stderr).toBe(0);
    }
    const ring = await loadKeyring([pubPath]);
    expect(await verifyDetached(data, binary, ring)).toEqual({ signers: [signer.fingerprint] });
    expect(await verifyDetached(data, armored, ring)).toEqual({ signers: [signer.fingerprint] });
    // one changed byte (here: a line ending) must fail, so the signature is not over normalised text
    await writeFile(dataPath, new Uint8Array([...data.subarray(0, 8), 0x0a, ...data.subarray(10)]));
    expect((await gpgv([join(dir, 'Release.gpg'), dataPath])).code).not.toBe(0);
  });
});
