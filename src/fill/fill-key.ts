import { isStrong, type Expected } from '../formats/digests.ts';

/**
 * The single-flight key of a verified download (issue 8, finding 4): what is fetched (its sha256,
 * else its strongest digest) AND from where (the upstream's id). Keyed by content alone, a second
 * remote listing the same hash made the first remote's clients wait on its (slow, hostile) upstream.
 * Remotes with the same upstream id still share one download; the stored blob is content-addressed
 * either way, so identical bytes are stored once. Every single flight over fills uses this key (the
 * in-process FillRegistry, and a cluster-wide lease later), so they agree on what "the same" means.
 */
export function fillKey(upstreamId: string, expected: Expected, fallback: { remote: string; path: string }): string {
  const digest = expected.digests.find((d) => d.algo === 'sha256') ?? expected.digests.find(isStrong);
  const what = digest ? `${digest.algo}:${digest.hex.toLowerCase()}` : `path:${fallback.remote}/${fallback.path}`;
  return `${what}@${upstreamId}`;
}
