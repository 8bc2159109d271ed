import { readFile } from 'node:fs/promises';
import { readKeys } from 'openpgp';
import type { Key, PublicKey } from 'openpgp';
import { RepointError } from '../errors.ts';

/** Trusted public keys for one remote, parsed once and reused for every verification. */
export interface Keyring {
  readonly keys: PublicKey[];
  /** upper-case hex primary-key fingerprints, in file order */
  readonly fingerprints: string[];
  readonly paths: readonly string[];
  /** for error messages: the files and the fingerprints they hold */
  describe(): string;
}

const ARMOR_BLOCK = /-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g;

export async function loadKeyring(paths: readonly string[]): Promise<Keyring> {
  if (paths.length === 0) throw new RepointError('CONFIG_INVALID', 'keyring: no keyring files given');
  const keys: PublicKey[] = [];
  for (const path of paths) keys.push(...(await loadKeyFile(path)));
  const fingerprints = keys.map((k) => k.getFingerprint().toUpperCase());
  const listed = [...paths];
  return {
    keys,
    fingerprints,
    paths: listed,
    describe: () => `keyring ${listed.join(', ')} (${fingerprints.length} key${fingerprints.length === 1 ? '' : 's'}: ${fingerprints.join(', ')})`,
  };
}

async function loadKeyFile(path: string): Promise<PublicKey[]> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(path));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : `not readable (${code ?? 'error'})`;
    throw new RepointError('CONFIG_INVALID', `keyring file ${what}: ${path}`, { path }, { cause: err });
  }
  if (isKeybox(bytes)) {
    throw new RepointError(
      'CONFIG_INVALID',
      `keyring file is a GnuPG keybox, which is not supported: ${path}; export the keys with ` +
        `\`gpg --no-default-keyring --keyring ${path} --export > keyring.gpg\` and point the keyring at that file`,
      { path },
    );
  }
  let parsed: Key[];
  try {
    parsed = isArmored(bytes) ? await readArmoredBlocks(path, new TextDecoder().decode(bytes)) : await readKeys({ binaryKeys: bytes });
  } catch (err) {
    if (err instanceof RepointError) throw err;
    throw new RepointError('CONFIG_INVALID', `keyring file is not an OpenPGP keyring: ${path}: ${(err as Error).message}`, { path }, { cause: err });
  }
  if (parsed.length === 0) throw new RepointError('CONFIG_INVALID', `keyring file holds no OpenPGP keys: ${path}`, { path });
  // A file with secret keys still only contributes its public halves.
  return parsed.map((k) => k.toPublic());
}

/** Armored files may hold several concatenated key blocks (e.g. `cat a.asc b.asc`). */
async function readArmoredBlocks(path: string, text: string): Promise<Key[]> {
  const blocks = text.match(ARMOR_BLOCK);
  if (!blocks) throw new RepointError('CONFIG_INVALID', `keyring file has no PGP PUBLIC KEY BLOCK: ${path}`, { path });
  const keys: Key[] = [];
  for (const armoredKeys of blocks) keys.push(...(await readKeys({ armoredKeys })));
  return keys;
}

/** A keybox starts with a header blob: u32 length, type 1, version, u16 flags, then "KBXf". */
function isKeybox(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && bytes[4] === 1 && new TextDecoder().decode(bytes.subarray(8, 12)) === 'KBXf';
}

/** Every binary OpenPGP packet header has its top bit set; text never starts that way. */
function isArmored(bytes: Uint8Array): boolean {
  const first = bytes[0];
  return first !== undefined && (first & 0x80) === 0;
}
