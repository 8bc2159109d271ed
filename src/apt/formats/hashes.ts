/** Hash algorithms apt lists in Release files and index stanzas. */
export type HashAlgo = 'md5' | 'sha1' | 'sha256' | 'sha512';

export interface Hashes {
  md5?: string;
  sha1?: string;
  sha256?: string;
  sha512?: string;
}

/** Strongest first: the order apt prefers them in. */
export const HASH_ALGOS: readonly HashAlgo[] = ['sha512', 'sha256', 'sha1', 'md5'];

/** Release field names; apt uses the same spelling for by-hash directories. */
export const RELEASE_HASH_FIELD: Readonly<Record<HashAlgo, string>> = {
  md5: 'MD5Sum',
  sha1: 'SHA1',
  sha256: 'SHA256',
  sha512: 'SHA512',
};

const HEX_LENGTH: Readonly<Record<HashAlgo, number>> = { md5: 32, sha1: 40, sha256: 64, sha512: 128 };

const HEX = /^[0-9a-fA-F]+$/;

/** True when hex is a digest of the right length for algo (either case). */
export function isHexDigest(algo: HashAlgo, hex: string): boolean {
  return hex.length === HEX_LENGTH[algo] && HEX.test(hex);
}

/** The by-hash directory name → algo (exact spelling, as apt requests it). */
export function algoOfHashDir(dir: string): HashAlgo | undefined {
  for (const algo of HASH_ALGOS) if (RELEASE_HASH_FIELD[algo] === dir) return algo;
  return undefined;
}

/** The strongest hash present (SHA512 > SHA256 > SHA1 > MD5), as apt would pick it. */
export function strongestHash(hashes: Hashes): { algo: HashAlgo; hex: string } | undefined {
  for (const algo of HASH_ALGOS) {
    const hex = hashes[algo];
    if (hex !== undefined) return { algo, hex };
  }
  return undefined;
}
