import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createCleartextMessage, createMessage, generateKey, readPrivateKey, sign } from 'openpgp';
import type { PrivateKey } from 'openpgp';
import { RepointError } from '../errors.ts';

/** The mirror's own signing key, used to re-sign checkpoint metadata. */
export interface Signer {
  /** upper-case hex fingerprint of the (v4) primary key */
  readonly fingerprint: string;
  readonly publicKeyArmored: string;
  /** binary certificate, usable as an apt `signed-by` keyring */
  readonly publicKeyBinary: Uint8Array;
  /** an InRelease-style clearsigned document (LF line endings) */
  clearsign(text: string): Promise<string>;
  /** binary detached signature over the exact bytes, like `gpg --detach-sign` */
  detachSign(data: Uint8Array): Promise<Uint8Array>;
  /**
   * armored detached signature over the exact bytes, like `gpg --detach-sign --armor`:
   * use it for repomd.xml.asc and also for Release.gpg, as apt 2.x refuses a binary Release.gpg (NODATA)
   */
  detachSignArmored(data: Uint8Array): Promise<string>;
}

export interface SignerOptions {
  userId?: { name: string; email?: string };
  log?: (msg: string) => void;
}

/** A signature dated before its key is rejected, so new keys are dated this far back (clock skew). */
const BACKDATE_MS = 60 * 60 * 1000;

/**
 * The key at `path`, created when missing. Several nodes may share the file (`signing.key` on a
 * shared volume or one Secret): the first to find it missing creates it atomically without ever
 * replacing another's (link, or an exclusive create where hard links are unsupported), and every
 * other node reads the winner's key, so all of them sign alike.
 */
export async function loadOrCreateSigner(path: string, opts: SignerOptions = {}): Promise<Signer> {
  const existing = await readKeyFile(path);
  if (existing !== undefined) return createSigner(await parseSettled(path, existing));
  const key = await generate(opts.userId ?? { name: 'repoint mirror' });
  const stored = await storeIfAbsent(path, key.armor());
  if (stored) {
    opts.log?.(`generated mirror signing key ${key.getFingerprint().toUpperCase()} at ${path}`);
    return createSigner(key);
  }
  // Another process created the file first; use its key so all instances sign alike.
  const winner = await readKeyFile(path);
  if (winner === undefined) throw new RepointError('CONFIG_INVALID', `signing key file vanished while being created: ${path}`);
  return createSigner(await parseSettled(path, winner));
}

/** Where the winner wrote in place (no hard links), its file may still be filling: wait a little for it. */
async function parseSettled(path: string, text: string): Promise<PrivateKey> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await parseKey(path, text);
    } catch (err) {
      if (attempt >= 20 || text.includes('-----END PGP PRIVATE KEY BLOCK-----')) throw err;
      await new Promise((r) => setTimeout(r, 100));
      text = (await readKeyFile(path)) ?? text;
    }
  }
}

function createSigner(key: PrivateKey): Signer {
  const publicKey = key.toPublic();
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    publicKeyArmored: publicKey.armor(),
    publicKeyBinary: publicKey.write(),
    async clearsign(text) {
      // gpg does not sign the line break before the signature armor; match it so the signed
      // text round-trips, then emit LF endings (openpgp.js writes CRLF) as apt's files use.
      const message = await createCleartextMessage({ text: text.replace(/\r?\n$/, '') });
      const armored = await sign({ message, signingKeys: key });
      return armored.replace(/\r\n/g, '\n');
    },
    async detachSign(data) {
      return sign({ message: await createMessage({ binary: data }), signingKeys: key, detached: true, format: 'binary' });
    },
    async detachSignArmored(data) {
      return sign({ message: await createMessage({ binary: data }), signingKeys: key, detached: true });
    },
  };
}

async function generate(userId: { name: string; email?: string }): Promise<PrivateKey> {
  const { privateKey } = await generateKey({
    type: 'ecc',
    curve: 'ed25519Legacy', // v4 EdDSA: readable by gpgv 2.2, unlike v6 Ed25519 keys
    userIDs: [userId],
    date: new Date(Date.now() - BACKDATE_MS),
    subkeys: [], // signing only: the primary key signs
    format: 'object',
    config: { v6Keys: false },
  });
  return privateKey;
}

async function parseKey(path: string, armoredKey: string): Promise<PrivateKey> {
  let key: PrivateKey;
  try {
    key = await readPrivateKey({ armoredKey });
  } catch (err) {
    throw new RepointError('CONFIG_INVALID', `signing key file is not an armored OpenPGP private key: ${path}`, { path }, { cause: err });
  }
  if (!key.isDecrypted()) {
    throw new RepointError('CONFIG_INVALID', `signing key is passphrase-protected, which is not supported: ${path}`, { path });
  }
  if (key.keyPacket.version !== 4) {
    throw new RepointError('CONFIG_INVALID', `signing key must be a v4 key (gpgv 2.2 cannot read v${key.keyPacket.version}): ${path}`, {
      path,
    });
  }
  try {
    await key.getSigningKey();
  } catch (err) {
    throw new RepointError('CONFIG_INVALID', `signing key cannot sign: ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  return key;
}

async function readKeyFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new RepointError('CONFIG_INVALID', `signing key file not readable: ${path}`, { path }, { cause: err });
  }
}

/**
 * Writes the key durably with mode 0600 and publishes it only if no file exists yet:
 * link() fails with EEXIST instead of replacing a key another process just created.
 * Returns false when another file won.
 */
async function storeIfAbsent(path: string, contents: string): Promise<boolean> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const temp = join(dir, `.${randomBytes(6).toString('hex')}.key.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(temp, path);
    await unlink(temp);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      await unlink(temp);
      return false;
    }
    await unlink(temp).catch(() => undefined);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    // No hard links: an exclusive create of the final name (rename would replace another node's key);
    // readers of a file still being written wait for it (parseSettled).
    if (!(await writeExclusive(path, contents))) return false;
  }
  await syncDir(dir);
  return true;
}

async function writeExclusive(path: string, contents: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  return true;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
