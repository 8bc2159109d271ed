import { createHash, type Hash } from 'node:crypto';

export type HashAlgo = 'sha512' | 'sha384' | 'sha256' | 'sha224' | 'sha1' | 'md5';

export interface Digest {
  algo: HashAlgo;
  hex: string;
}

/** What verified metadata says a file must be. */
export interface Expected {
  size?: number;
  /** Every listed digest is checked; sha256, when present, is also the blob address. */
  digests: Digest[];
}

/** The sha256 a file is listed by (lowercase; also its blob address), if any. */
export function sha256Of(expected: Expected): string | undefined {
  return expected.digests.find((d) => d.algo === 'sha256')?.hex.toLowerCase();
}

/** Weak digests alone do not make a file "verified" (fail closed). */
export function isStrong(d: Digest): boolean {
  return d.algo !== 'md5' && d.algo !== 'sha1';
}

/** Hashes a stream once per algorithm, incrementally. */
export class MultiHasher {
  #hashes: Map<HashAlgo, Hash>;

  constructor(algos: Iterable<HashAlgo>) {
    this.#hashes = new Map([...new Set(algos)].map((a) => [a, createHash(a)]));
  }

  update(chunk: Uint8Array): void {
    for (const h of this.#hashes.values()) h.update(chunk);
  }

  /** Returns the first digest that does not match, or undefined when all match. */
  mismatch(expected: readonly Digest[]): { digest: Digest; actual: string } | undefined {
    for (const d of expected) {
      const h = this.#hashes.get(d.algo);
      if (!h) continue;
      const actual = h.copy().digest('hex');
      if (actual !== d.hex.toLowerCase()) return { digest: d, actual };
    }
    return undefined;
  }
}
