import { config as defaults, createMessage, enums, readCleartextMessage, readSignature, verify } from 'openpgp';
import type { CleartextMessage, Config, Signature } from 'openpgp';
import { RepointError } from '../errors.ts';
import type { Keyring } from './keyring.ts';
import { judgeSignatures } from './verdict.ts';

export interface VerifyOptions {
  /** accept SHA-1 message signatures (openpgp.js refuses them by default); a per-remote opt-in */
  allowSha1?: boolean;
  /** verification time; defaults to now */
  now?: Date;
}

export interface ClearsignedResult {
  /** the signed text only (LF line endings, trailing spaces stripped, no final newline), never the outer file */
  text: string;
  /** upper-case primary fingerprints of the keyring keys whose signatures verified */
  signers: string[];
}

export interface DetachedResult {
  signers: string[];
}

const BEGIN_SIGNED = /^-----BEGIN PGP SIGNED MESSAGE-----\r?$/gm;
const BEGIN_SIGNATURE = /^-----BEGIN PGP SIGNATURE-----\r?$/gm;
const END_SIGNATURE = '-----END PGP SIGNATURE-----';

/** Verifies a clearsigned document (InRelease) against the keyring and returns its signed text. */
export async function verifyClearsigned(armoredText: string, keyring: Keyring, opts: VerifyOptions = {}): Promise<ClearsignedResult> {
  const message = await readClearsigned(armoredText);
  const now = opts.now ?? new Date();
  const config = verifyConfig(opts);
  const result = await verify({ message, verificationKeys: keyring.keys, expectSigned: false, date: now, config });
  const signers = await judgeSignatures(result.signatures, keyring, 'clearsigned message', now, config);
  return { text: result.data, signers };
}

/** Verifies a detached signature (Release.gpg, repomd.xml.asc; binary or armored) over the exact bytes of `data`. */
export async function verifyDetached(
  data: Uint8Array,
  signature: Uint8Array | string,
  keyring: Keyring,
  opts: VerifyOptions = {},
): Promise<DetachedResult> {
  const parsed = await readDetached(signature);
  const now = opts.now ?? new Date();
  const config = verifyConfig(opts);
  const result = await verify({
    message: await createMessage({ binary: data }),
    signature: parsed,
    verificationKeys: keyring.keys,
    expectSigned: false,
    format: 'binary',
    date: now,
    config,
  });
  return { signers: await judgeSignatures(result.signatures, keyring, 'detached signature', now, config) };
}

/** A per-call copy of openpgp.js's defaults; the shared global config is never changed. */
function verifyConfig(opts: VerifyOptions): Config {
  const reject = new Set(defaults.rejectMessageHashAlgorithms);
  if (opts.allowSha1) reject.delete(enums.hash.sha1);
  return { ...defaults, rejectMessageHashAlgorithms: reject };
}

/**
 * Only a file that is exactly one clearsigned message is accepted: text before or after it
 * is unsigned, and apt itself refuses such files, so it must not reach a parser either.
 */
async function readClearsigned(armoredText: string): Promise<CleartextMessage> {
  const body = armoredText.replace(/^\uFEFF/, '').trimStart();
  const begins = body.match(BEGIN_SIGNED)?.length ?? 0;
  if (begins === 0) throw new RepointError('SIGNATURE_MISSING', 'not a clearsigned OpenPGP message (no BEGIN PGP SIGNED MESSAGE line)');
  if (!body.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) {
    throw new RepointError('SIGNATURE_INVALID', 'clearsigned message has unsigned content before it');
  }
  const signatures = body.match(BEGIN_SIGNATURE)?.length ?? 0;
  if (begins !== 1 || signatures !== 1) {
    throw new RepointError('SIGNATURE_INVALID', 'file holds more than one clearsigned message or signature block');
  }
  const end = body.lastIndexOf(END_SIGNATURE);
  if (end < 0) throw new RepointError('SIGNATURE_INVALID', 'clearsigned message is truncated (no END PGP SIGNATURE line)');
  if (body.slice(end + END_SIGNATURE.length).trim() !== '') {
    throw new RepointError('SIGNATURE_INVALID', 'clearsigned message has unsigned content after it');
  }
  try {
    return await readCleartextMessage({ cleartextMessage: body });
  } catch (err) {
    throw new RepointError('SIGNATURE_INVALID', `malformed clearsigned message: ${(err as Error).message}`, undefined, { cause: err });
  }
}

// Some repositories publish an armored Release.gpg, so armor is detected, not assumed.
async function readDetached(signature: Uint8Array | string): Promise<Signature> {
  if (typeof signature === 'string' || looksArmored(signature)) {
    const text = typeof signature === 'string' ? signature : new TextDecoder().decode(signature);
    return parseSignature(text.trim() === '', () => readSignature({ armoredSignature: text }));
  }
  return parseSignature(signature.length === 0, () => readSignature({ binarySignature: signature }));
}

async function parseSignature(empty: boolean, read: () => Promise<Signature>): Promise<Signature> {
  if (empty) throw new RepointError('SIGNATURE_MISSING', 'detached signature is empty');
  try {
    return await read();
  } catch (err) {
    throw new RepointError('SIGNATURE_INVALID', `malformed detached signature: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** Binary OpenPGP packets always start with a byte whose top bit is set. */
function looksArmored(bytes: Uint8Array): boolean {
  const first = bytes[0];
  return first !== undefined && (first & 0x80) === 0;
}
