// Test helper: OpenPGP keys made in-process (openpgp.js, no gpg), for signing fast-test fixtures.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCleartextMessage, createMessage, generateKey, sign, type PrivateKey } from 'openpgp';
import { loadKeyring, type Keyring } from '../../src/trust/keyring.ts';
import { loadOrCreateSigner, type Signer } from '../../src/trust/signer.ts';

/** An upstream archive key: signs like a distribution's archive, trusted through a keyring file. */
export interface ArchiveKey {
  readonly fingerprint: string;
  /** A keyring file holding only this key's public half. */
  readonly keyringPath: string;
  readonly keyring: Keyring;
  /** InRelease-style (LF endings, the final line break unsigned, as gpg --clearsign). */
  clearsign(text: string): Promise<string>;
  /** Release.gpg-style: binary detached signature over the exact bytes. */
  detachSign(data: Uint8Array): Promise<Uint8Array>;
  /** repomd.xml.asc-style: armored detached signature. */
  detachSignArmored(data: Uint8Array): Promise<string>;
}

const keys = new Map<string, Promise<ArchiveKey>>();

/** Generation is the slow part: each named key is made once per test file (module). */
export function archiveKey(name = 'archive'): Promise<ArchiveKey> {
  let k = keys.get(name);
  if (!k) keys.set(name, (k = makeKey(name)));
  return k;
}

async function makeKey(name: string): Promise<ArchiveKey> {
  const { privateKey } = await generateKey({
    type: 'ecc', curve: 'ed25519Legacy', userIDs: [{ name: `${name} test key` }],
    // dated back: a signature dated before its key is refused
    date: new Date(Date.now() - 3600_000), subkeys: [], format: 'object', config: { v6Keys: false },
  });
  const dir = await mkdtemp(join(tmpdir(), 'repoint-keys-'));
  const keyringPath = join(dir, `${name}.asc`);
  await writeFile(keyringPath, privateKey.toPublic().armor());
  return {
    fingerprint: privateKey.getFingerprint().toUpperCase(),
    keyringPath,
    keyring: await loadKeyring([keyringPath]),
    clearsign: (text) => clearsign(privateKey, text),
    detachSign: async (data) => sign({ message: await createMessage({ binary: data }), signingKeys: privateKey, detached: true, format: 'binary' }),
    detachSignArmored: async (data) => sign({ message: await createMessage({ binary: data }), signingKeys: privateKey, detached: true }),
  };
}

async function clearsign(key: PrivateKey, text: string): Promise<string> {
  const message = await createCleartextMessage({ text: text.replace(/\r?\n$/, '') });
  return (await sign({ message, signingKeys: key })).replace(/\r\n/g, '\n');
}

let mirror: Promise<Signer> | undefined;

/** The mirror's own signing key (src/trust/signer.ts), made once per test file. */
export function mirrorSigner(): Promise<Signer> {
  mirror ??= mkdtemp(join(tmpdir(), 'repoint-mirror-key-')).then((dir) => loadOrCreateSigner(join(dir, 'mirror.asc')));
  return mirror;
}
