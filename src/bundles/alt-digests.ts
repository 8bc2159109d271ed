import type { Digest, Expected } from '../formats/digests.ts';
import type { BlobRef } from './bundle-manifest.ts';

/**
 * The strong digests other than sha256 an index may list a package by alone (apt: SHA512; yum:
 * sha512, sha384 or sha224). A bundle entry carries them so the importing node can record the same
 * alias a verified download would (alias:<algo>:<hex> -> sha256), and verifies them as it reads.
 */
export const ALT_ALGOS = ['sha512', 'sha384', 'sha224'] as const;
export type AltAlgo = (typeof ALT_ALGOS)[number];
export type AltDigests = Partial<Record<AltAlgo, string>>;

const isAlt = (algo: string): algo is AltAlgo => (ALT_ALGOS as readonly string[]).includes(algo);

/** The alternative digests an index entry lists, when it lists no sha256 ({} otherwise: sha256 is the address). */
export function altDigestsOf(expected: Expected): AltDigests {
  if (expected.digests.some((d) => d.algo === 'sha256')) return {};
  const out: AltDigests = {};
  for (const d of expected.digests) if (isAlt(d.algo)) out[d.algo] = d.hex.toLowerCase();
  return out;
}

/** The alternative digests a bundle entry carries. */
export function altDigestsOfRef(ref: BlobRef): Digest[] {
  return ALT_ALGOS.flatMap((algo) => (ref[algo] !== undefined ? [{ algo, hex: ref[algo] }] : []));
}

/** Whether `a` names any digest. */
export function hasAlt(a: AltDigests): boolean {
  return ALT_ALGOS.some((algo) => a[algo] !== undefined);
}
