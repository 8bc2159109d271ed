import type { Config, VerifyMessageResult } from 'openpgp';
import { RepointError } from '../errors.ts';
import type { Keyring } from './keyring.ts';

type Results = VerifyMessageResult['signatures'];

/** openpgp.js reports a cryptographically wrong signature with one of these messages. */
const BAD_SIGNATURE = /Signed digest did not match|Signature verification failed/;
const WEAK_SHA1 = /Insecure message hash algorithm: SHA1/;

interface Outcome {
  good: string[];
  bad: string[];
  sha1: string[];
  unusable: string[];
  unknown: string[];
}

/**
 * Applies apt's rule to openpgp.js verification results: at least one signature by a keyring key
 * must verify; signatures by unknown keys are ignored; a known key's cryptographically bad
 * signature fails the whole document. Signatures that are merely unusable (expired or revoked
 * key, refused hash) do not count, as with gpgv's EXPKEYSIG. Returns the good signers' fingerprints.
 */
export async function judgeSignatures(
  results: Results,
  keyring: Keyring,
  what: string,
  now: Date,
  config: Config,
): Promise<string[]> {
  if (results.length === 0) throw new RepointError('SIGNATURE_MISSING', `${what} carries no signature`);
  const out: Outcome = { good: [], bad: [], sha1: [], unusable: [], unknown: [] };
  for (const result of results) {
    const keyId = result.keyID.toHex().toUpperCase();
    const owner = keyring.keys.find((key) => key.getKeys(result.keyID).length > 0);
    if (!owner) {
      out.unknown.push(keyId);
      continue;
    }
    const fingerprint = owner.getFingerprint().toUpperCase();
    try {
      await result.verified;
      // openpgp.js only checks the key at signing time; gpgv (EXPKEYSIG/REVKEYSIG), and so apt, also want it valid now
      await owner.getSigningKey(result.keyID, now, undefined, config);
      if (!out.good.includes(fingerprint)) out.good.push(fingerprint);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (BAD_SIGNATURE.test(reason)) out.bad.push(`${fingerprint} (${reason})`);
      else if (WEAK_SHA1.test(reason)) out.sha1.push(fingerprint);
      else out.unusable.push(`${fingerprint} (${reason})`);
    }
  }
  return verdict(out, keyring, what);
}

function verdict(out: Outcome, keyring: Keyring, what: string): string[] {
  const details = { ...out, keyring: keyring.describe() };
  if (out.bad.length > 0) {
    throw new RepointError('SIGNATURE_INVALID', `${what} has a bad signature by trusted key ${out.bad.join(', ')}`, details);
  }
  if (out.good.length > 0) return out.good;
  if (out.sha1.length > 0) {
    throw new RepointError(
      'SIGNATURE_INVALID',
      `${what} is signed with SHA-1 by ${out.sha1.join(', ')}, which is refused by default; ` +
        'set `allowSha1: true` on this remote to accept SHA-1 signatures',
      details,
    );
  }
  if (out.unusable.length > 0) {
    throw new RepointError('SIGNATURE_INVALID', `${what} has no usable signature by a trusted key: ${out.unusable.join('; ')}`, details);
  }
  throw new RepointError(
    'SIGNATURE_INVALID',
    `${what} is not signed by any key in the ${keyring.describe()}; it is signed by key ID ${out.unknown.join(', ')}`,
    details,
  );
}
