import type { AdoptContext, PackageRef } from '../bundles/bundle-support.ts';
import type { ManifestDeps } from '../checkpoints/checkpoint-source.ts';
import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import type { Digest } from '../formats/digests.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import { badFile, isFields, isOptional, isSha256 } from '../checkpoints/manifest-shape.ts';
import { writeRelease } from './formats/release-writer.ts';
import { parseRelease } from './formats/release.ts';
import { aptSuites, type AptSuiteSnapshot } from './manifest.ts';
import { PoolIndex, poolEntryBatches, poolRecordOf } from './pool-index.ts';

/** Every blob stored with an apt checkpoint; derived (uncompressed) indexes are made on demand, so they are not. */
export function aptStoredMetadata(m: CheckpointManifest): string[] {
  return aptSuites(m).flatMap((s) => [
    s.upstream, s.release, s.inRelease, s.releaseGpg,
    ...Object.values(s.files).filter((f) => f.from === undefined).map((f) => f.sha256),
  ]);
}

/** Every pool file the checkpoint's Packages/Sources list (sha256 or sha512 required, as for serving). */
export async function* aptPackageRefs(m: CheckpointManifest, deps: ManifestDeps, seen: Set<string>): AsyncGenerator<PackageRef[]> {
  for (const ref of aptSuites(m).flatMap((s) => s.indexes)) {
    const id = `${ref.sha256}:${ref.root}`;
    if (seen.has(id) || !(await deps.blobs.stat(ref.sha256))) continue;
    seen.add(id);
    for await (const batch of poolEntryBatches(deps.blobs, ref, undefined, { sync: deps.syncDecode ?? false })) {
      const out: PackageRef[] = [];
      for (const e of batch) {
        const rec = poolRecordOf(e);
        if (!rec) continue;
        const digests: Digest[] = [];
        if (rec.sha256) digests.push({ algo: 'sha256', hex: rec.sha256 });
        if (rec.sha512) digests.push({ algo: 'sha512', hex: rec.sha512 });
        out.push({ path: joinRelPath(ref.root, e.filename), expected: { size: rec.size, digests } });
      }
      if (out.length > 0) yield out;
    }
  }
}

/**
 * Makes an imported apt checkpoint this node's: the same Release text with `Snapshots:` pointing
 * here, signed by this node's key as InRelease and Release.gpg; indexes and pool files unchanged.
 */
export async function adoptApt(m: CheckpointManifest, ctx: AdoptContext): Promise<Record<string, unknown>> {
  const pool = new PoolIndex(ctx.remote, ctx.content.state, ctx.content.blobs, ctx.log);
  const suites: AptSuiteSnapshot[] = [];
  for (const s of aptSuites(m)) {
    const release = parseRelease((await ctx.content.blobs.readAll(s.release)).toString('utf8'));
    const text = writeRelease(release, { keepPaths: new Set(Object.keys(s.files)), snapshotsUrl: ctx.snapshotsUrl, validUntil: null });
    const releaseBlob = await ctx.content.storeBytes(Buffer.from(text));
    const [inRelease, releaseGpg] = await Promise.all([
      ctx.signer.clearsign(text).then(async (t) => (await ctx.content.storeBytes(Buffer.from(t))).sha256),
      // armored, as apt 2.6 refuses a binary Release.gpg
      ctx.signer.detachSignArmored(Buffer.from(text)).then(async (t) => (await ctx.content.storeBytes(Buffer.from(t))).sha256),
    ]);
    // checkpoint lookups read the records of exactly these indexes
    for (const ref of s.indexes) await pool.ingest(ref, false);
    suites.push({ ...s, release: releaseBlob.sha256, inRelease, releaseGpg });
  }
  return { suites };
}

/** What is wrong with an apt manifest from a bundle: the first field read here that has another shape, or undefined. */
export function aptMalformed(m: CheckpointManifest): string | undefined {
  // not an apt checkpoint at all: aptSuites refuses it (METADATA_INVALID)
  for (const [i, s] of (aptSuites(m) as unknown[]).entries()) {
    const at = `suites.${i}`;
    if (!isFields(s)) return at;
    if (typeof s['dir'] !== 'string') return `${at}.dir`;
    for (const k of ['upstream', 'release', 'inRelease', 'releaseGpg']) if (!isSha256(s[k])) return `${at}.${k}`;
    const file = badFile(s['files']);
    if (file) return `${at}.${file}`;
    const indexes = s['indexes'];
    if (!Array.isArray(indexes)) return `${at}.indexes`;
    for (const [j, r] of indexes.entries()) {
      if (!isFields(r) || !isSha256(r['sha256']) || typeof r['root'] !== 'string' || typeof r['path'] !== 'string'
        || !isOptional(r['dir'], 'string') || !isOptional(r['openSize'], 'number')) return `${at}.indexes.${j}`;
    }
    if (s['leftOut'] !== undefined && !Array.isArray(s['leftOut'])) return `${at}.leftOut`;
  }
  return undefined;
}
