import type { AdoptContext, PackageRef } from '../bundles/bundle-support.ts';
import type { ManifestDeps } from '../checkpoints/checkpoint-source.ts';
import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import { badFile, isFields, isSha256 } from '../checkpoints/manifest-shape.ts';
import { primaryOf, yumMetadataBlobs, yumRepos, type YumRepoSnapshot } from './manifest.ts';
import { PackageIndex, primaryEntryBatches } from './package-index.ts';

/** Every blob stored with a yum checkpoint: repomd.xml, its signature and every data file. */
export function yumStoredMetadata(m: CheckpointManifest): string[] {
  return yumMetadataBlobs(m);
}

/** Every RPM the checkpoint's primaries list with a strong checksum. */
export async function* yumPackageRefs(m: CheckpointManifest, deps: ManifestDeps, seen: Set<string>): AsyncGenerator<PackageRef[]> {
  for (const r of yumRepos(m)) {
    const primary = primaryOf(r);
    if (!primary) continue;
    const id = `${primary.sha256}:${primary.dir}`;
    if (seen.has(id) || !(await deps.blobs.stat(primary.sha256))) continue;
    seen.add(id);
    for await (const batch of primaryEntryBatches(deps.blobs, deps.upstreams, primary)) {
      yield batch.map(({ path, record }) => ({ path, expected: { size: record.size, digests: [{ algo: record.algo, hex: record.hex }] } }));
    }
  }
}

/** Makes an imported yum checkpoint this node's: upstream's repomd.xml unchanged, repomd.xml.asc by this node's key. */
export async function adoptYum(m: CheckpointManifest, ctx: AdoptContext): Promise<Record<string, unknown>> {
  const packages = new PackageIndex(ctx.remote, ctx.upstreams, ctx.content.state, ctx.content.blobs, ctx.log);
  const repos: YumRepoSnapshot[] = [];
  for (const r of yumRepos(m)) {
    const repomd = await ctx.content.blobs.readAll(r.repomd);
    const asc = await ctx.content.storeBytes(Buffer.from(await ctx.signer.detachSignArmored(new Uint8Array(repomd))));
    const primary = primaryOf(r);
    if (primary) await packages.ingest(primary, false);
    repos.push({ ...r, repomdAsc: asc.sha256 });
  }
  return { repos };
}

/** What is wrong with a yum manifest from a bundle: the first field read here that has another shape, or undefined. */
export function yumMalformed(m: CheckpointManifest): string | undefined {
  // not a yum checkpoint at all: yumRepos refuses it (METADATA_INVALID)
  for (const [i, r] of (yumRepos(m) as unknown[]).entries()) {
    const at = `repos.${i}`;
    if (!isFields(r)) return at;
    if (typeof r['dir'] !== 'string') return `${at}.dir`;
    for (const k of ['repomd', 'repomdAsc']) if (!isSha256(r[k])) return `${at}.${k}`;
    const file = badFile(r['files']);
    if (file) return `${at}.${file}`;
    const p = r['primary'];
    if (p !== undefined && (!isFields(p) || !isSha256(p['sha256']) || typeof p['location'] !== 'string')) return `${at}.primary`;
  }
  return undefined;
}
