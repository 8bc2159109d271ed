import type { Digest } from '../formats/digests.ts';
import { MultiHasher } from '../formats/digests.ts';
import { RepointError } from '../errors.ts';
import type { ContentService } from '../serve/content.ts';
import { stateKeys } from '../state/keys.ts';
import { altDigestsOfRef } from './alt-digests.ts';
import type { BundleManifest } from './bundle-manifest.ts';

const GET_BATCH = 1000;

/**
 * Records, as a verified download would, the alias of every entry the carried indexes know by
 * another strong digest alone (alias:<algo>:<hex> -> sha256), so lookups and serving find those
 * packages. Carried blobs were checked against those digests as they were read (bundle-reader.ts);
 * a blob the base provides is hashed here from the stored copy, unless this node already has that
 * alias for it (its own download, or the import that brought the base).
 */
export async function recordImportedAliases(content: ContentService, bundle: BundleManifest): Promise<void> {
  const entries: Array<{ key: string; value: string }> = [];
  for (const b of bundle.blobs) for (const d of altDigestsOfRef(b)) entries.push({ key: stateKeys.alias(d.algo, d.hex), value: b.sha256 });
  const fromBase = (bundle.since?.blobs ?? []).flatMap((b) => altDigestsOfRef(b).map((d) => ({ sha256: b.sha256, d })));
  for (let at = 0; at < fromBase.length; at += GET_BATCH) {
    const slice = fromBase.slice(at, at + GET_BATCH);
    const have = await content.state.getMany<string>(slice.map(({ d }) => stateKeys.alias(d.algo, d.hex)));
    const unverified = new Map<string, Digest[]>();
    slice.forEach(({ sha256, d }, k) => {
      if (have[k] !== sha256) unverified.set(sha256, [...(unverified.get(sha256) ?? []), d]);
    });
    for (const [sha256, digests] of unverified) {
      await checkStored(content, sha256, digests);
      for (const d of digests) entries.push({ key: stateKeys.alias(d.algo, d.hex), value: sha256 });
    }
  }
  if (entries.length) await content.state.setMany(entries);
}

async function checkStored(content: ContentService, sha256: string, digests: readonly Digest[]): Promise<void> {
  const hasher = new MultiHasher(digests.map((d) => d.algo));
  for await (const chunk of content.blobs.open(sha256)) hasher.update(chunk as Uint8Array);
  const bad = hasher.mismatch(digests);
  if (bad) throw new RepointError('BUNDLE_INVALID', `the bundle says base blob ${sha256} has ${bad.digest.algo} ${bad.digest.hex}; the stored copy hashes to ${bad.actual}`);
}
