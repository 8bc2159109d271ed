import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armor, enums, unarmor } from 'openpgp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGpgKey } from '../../test/fixtures/gpg.ts';
import type { GpgKey } from '../../test/fixtures/gpg.ts';
import { run } from '../../test/helpers/run.ts';
import { isRepointError } from '../errors.ts';
import type { ErrorCode } from '../errors.ts';
import { loadKeyring } from './keyring.ts';
import type { Keyring } from './keyring.ts';
import { verifyClearsigned, verifyDetached } from './verify.ts';

// A: ed25519, B: RSA (like Debian's mix of archive keys), C: a key no keyring trusts.
let signers: GpgKey;
let outsider: GpgKey;
let fprA: string;
let fprB: string;
let ringA: Keyring;
let ringB: Keyring;
let ringAB: Keyring;
let fprD: string; // expires one day after creation
let ringAD: Keyring;
let dir: string;

const RELEASE = 'Origin: Example\nSuite: stable\n-----BEGIN looks like armor\n- a dash line\nTrailing: spaces   \nSHA256:\n abc 12 main/Packages\n';
// What the signature covers: trailing spaces are not signed, and neither is the final line break.
const SIGNED = RELEASE.replace(/ +\n/g, '\n').replace(/\n$/, '');

beforeAll(async () => {
  signers = await createGpgKey('signer A');
  fprA = signers.fingerprint;
  await signers.gpg(['--quick-generate-key', 'signer B <b@repoint.invalid>', 'rsa3072', 'sign', 'never']);
  const listing = await signers.gpg(['--with-colons', '--list-keys', 'signer B']);
  fprB = listing.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9] ?? '';
  outsider = await createGpgKey('outsider C');
  dir = await mkdtemp(join(tmpdir(), 'repoint-verify-'));
  const exportTo = async (name: string, fprs: string[]): Promise<Keyring> => {
    const path = join(dir, name);
    await signers.gpg(['--output', path, '--export', ...fprs]);
    return loadKeyring([path]);
  };
  ringA = await exportTo('a.gpg', [fprA]);
  ringB = await exportTo('b.gpg', [fprB]);
  ringAB = await exportTo('ab.gpg', [fprA, fprB]);
  await signers.gpg(['--quick-generate-key', 'signer D <d@repoint.invalid>', 'ed25519', 'sign', '1d']);
  const listD = await signers.gpg(['--with-colons', '--list-keys', 'signer D']);
  fprD = listD.split('\n').find((l) => l.startsWith('fpr:'))?.split(':')[9] ?? '';
  ringAD = await exportTo('ad.gpg', [fprA, fprD]);
});

afterAll(async () => {
  await disposeGpgHome(signers.home);
  await disposeGpgHome(outsider.home);
  await rm(dir, { recursive: true, force: true });
});

/** Stops the gpg-agent that gpg started for a throwaway home, then removes the home. */
async function disposeGpgHome(home: string): Promise<void> {
  await run('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: home }, allowFail: true });
  await rm(home, { recursive: true, force: true });
}

const clearsign = (key: GpgKey, users: string[], extra: string[] = []): Promise<string> =>
  key.gpg([...extra, ...users.flatMap((u) => ['-u', u]), '--clearsign'], RELEASE);

async function detachSign(key: GpgKey, data: Uint8Array, extra: string[]): Promise<Uint8Array> {
  const input = join(dir, `data-${randomBytes(4).toString('hex')}`);
  await writeFile(input, data);
  await key.gpg([...extra, '--output', `${input}.sig`, '--detach-sign', input]);
  return new Uint8Array(await readFile(`${input}.sig`));
}

async function failure(promise: Promise<unknown>): Promise<{ code: ErrorCode; message: string }> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isRepointError(err)) throw new Error(`expected a RepointError, got ${String(err)}`);
  return { code: err.code, message: err.message };
}

/** Splits a clearsigned file into its text part and its signature packets. */
async function splitClearsigned(doc: string): Promise<{ head: string; signature: Uint8Array }> {
  const at = doc.indexOf('-----BEGIN PGP SIGNATURE-----');
  const { data } = await unarmor(doc.slice(at));
  return { head: doc.slice(0, at), signature: data as Uint8Array };
}

describe('verifyClearsigned', () => {
  it('verifies gpg --clearsign output and returns only the signed text', async () => {
    const doc = await clearsign(signers, [fprA]);
    const result = await verifyClearsigned(doc, ringA);
    expect(result).toEqual({ text: SIGNED, signers: [fprA] });
    // a CRLF copy of the file is the same signed document
    expect(await verifyClearsigned(doc.replace(/\n/g, '\r\n'), ringA)).toEqual(result);
  });

  it('rejects a tampered body', async () => {
    const doc = (await clearsign(signers, [fprA])).replace('Suite: stable', 'Suite: stablf');
    expect(await failure(verifyClearsigned(doc, ringA))).toMatchObject({ code: 'SIGNATURE_INVALID', message: /bad signature/ });
  });

  it('rejects a message signed only by a key outside the keyring, naming the key and keyring', async () => {
    const doc = await clearsign(outsider, [outsider.fingerprint]);
    const { code, message } = await failure(verifyClearsigned(doc, ringAB));
    expect(code).toBe('SIGNATURE_INVALID');
    expect(message).toContain(outsider.fingerprint.slice(-16));
    expect(message).toContain(ringAB.paths[0]);
  });

  it('accepts a doubly signed message when the keyring holds either key', async () => {
    const doc = await clearsign(signers, [fprA, fprB]);
    expect((await verifyClearsigned(doc, ringA)).signers).toEqual([fprA]);
    expect((await verifyClearsigned(doc, ringB)).signers).toEqual([fprB]);
    expect([...(await verifyClearsigned(doc, ringAB)).signers].sort()).toEqual([fprA, fprB].sort());
  });

  it('fails when a known key signature is corrupted, even next to a good one', async () => {
    // one digest for both, so A's armor header ("Hash: SHA512") fits the combined signatures
    const byA = await splitClearsigned(await clearsign(signers, [fprA], ['--digest-algo', 'SHA512']));
    const byB = await splitClearsigned(await clearsign(signers, [fprB], ['--digest-algo', 'SHA512']));
    const combine = (sigA: Uint8Array): string => byA.head + armor(enums.armor.signature, new Uint8Array([...byB.signature, ...sigA]));
    // the intact combination verifies, so any failure below is the corruption's doing
    expect((await verifyClearsigned(combine(byA.signature), ringAB)).signers).toHaveLength(2);
    const corrupted = byA.signature.slice();
    corrupted[corrupted.length - 1] = (corrupted.at(-1) ?? 0) ^ 0x01; // last byte of the EdDSA MPI
    expect(await failure(verifyClearsigned(combine(corrupted), ringAB))).toMatchObject({
      code: 'SIGNATURE_INVALID',
      message: new RegExp(`bad signature by trusted key ${fprA}`),
    });
    expect(await failure(verifyClearsigned(combine(corrupted), ringA))).toMatchObject({ code: 'SIGNATURE_INVALID' });
    // with only B trusted, A's signature is an unknown key's and is ignored
    expect((await verifyClearsigned(combine(corrupted), ringB)).signers).toEqual([fprB]);
  });

  it('distinguishes unsigned input from unsigned content around a signed message', async () => {
    expect((await failure(verifyClearsigned(RELEASE, ringA))).code).toBe('SIGNATURE_MISSING');
    const doc = await clearsign(signers, [fprA]);
    expect((await failure(verifyClearsigned(`Origin: Evil\n${doc}`, ringA))).code).toBe('SIGNATURE_INVALID');
    expect((await failure(verifyClearsigned(`${doc}Origin: Evil\n`, ringA))).code).toBe('SIGNATURE_INVALID');
    expect((await failure(verifyClearsigned(doc.slice(0, -40), ringA))).code).toBe('SIGNATURE_INVALID');
  });

  it('refuses SHA-1 signatures unless allowSha1 is set', async () => {
    const doc = await clearsign(signers, [fprB], ['--digest-algo', 'SHA1']);
    expect(doc).toContain('Hash: SHA1');
    expect(await failure(verifyClearsigned(doc, ringB))).toMatchObject({ code: 'SIGNATURE_INVALID', message: /allowSha1: true/ });
    expect(await verifyClearsigned(doc, ringB, { allowSha1: true })).toEqual({ text: SIGNED, signers: [fprB] });
  });

  it('does not count a signature by a key that has expired since, as gpgv and apt do not', async () => {
    const doc = await clearsign(signers, [fprD]);
    expect((await verifyClearsigned(doc, ringAD)).signers).toEqual([fprD]);
    const later = new Date(Date.now() + 3 * 24 * 3600 * 1000);
    expect(await failure(verifyClearsigned(doc, ringAD, { now: later }))).toMatchObject({
      code: 'SIGNATURE_INVALID',
      message: new RegExp(`no usable signature by a trusted key: ${fprD}`),
    });
    const both = await clearsign(signers, [fprD, fprA]);
    expect((await verifyClearsigned(both, ringAD, { now: later })).signers).toEqual([fprA]);
  });

  it('verifies at the given time: a signature made after `now` is not accepted', async () => {
    const doc = await clearsign(signers, [fprA]);
    const past = new Date(Date.now() - 24 * 3600 * 1000);
    expect((await failure(verifyClearsigned(doc, ringA, { now: past }))).code).toBe('SIGNATURE_INVALID');
  });
});

describe('verifyDetached', () => {
  const data = new Uint8Array([...new TextEncoder().encode('<repomd>\r\n  - data\n'), ...randomBytes(512)]);

  it('verifies binary and armored gpg detached signatures over the exact bytes', async () => {
    const binary = await detachSign(signers, data, ['-u', fprA]);
    expect(binary[0]! & 0x80).toBe(0x80);
    expect(await verifyDetached(data, binary, ringA)).toEqual({ signers: [fprA] });
    const armoredBytes = await detachSign(signers, data, ['-u', fprB, '--armor']);
    const armored = new TextDecoder().decode(armoredBytes);
    expect(armored).toMatch(/^-----BEGIN PGP SIGNATURE-----/);
    expect(await verifyDetached(data, armored, ringB)).toEqual({ signers: [fprB] });
    // an armored Release.gpg read as bytes
    expect(await verifyDetached(data, armoredBytes, ringAB)).toEqual({ signers: [fprB] });
  });

  it('rejects tampered data, unknown signers and empty signatures', async () => {
    const sig = await detachSign(signers, data, ['-u', fprA]);
    const tampered = data.slice();
    tampered[100] = (tampered[100] ?? 0) ^ 0xff;
    expect(await failure(verifyDetached(tampered, sig, ringA))).toMatchObject({ code: 'SIGNATURE_INVALID', message: /bad signature/ });
    expect(await failure(verifyDetached(data, sig, ringB))).toMatchObject({ code: 'SIGNATURE_INVALID', message: /not signed by any key/ });
    expect((await failure(verifyDetached(data, new Uint8Array(), ringA))).code).toBe('SIGNATURE_MISSING');
  });

  it('refuses a SHA-1 detached signature unless allowSha1 is set', async () => {
    const sig = await detachSign(signers, data, ['-u', fprB, '--digest-algo', 'SHA1']);
    expect(await failure(verifyDetached(data, sig, ringB))).toMatchObject({ code: 'SIGNATURE_INVALID', message: /SHA-1/ });
    expect(await verifyDetached(data, sig, ringB, { allowSha1: true })).toEqual({ signers: [fprB] });
  });
});
