import type { YumCheckpointConfig } from '../config/types.ts';
import { fillSpec } from '../fill/fill.ts';
import { isStrong, type Expected } from '../formats/digests.ts';
import type { YumRemote } from './yum-remote.ts';
import { resolveHref } from './formats/yum-paths.ts';
import type { SnapshotContext } from '../apt/snapshot.ts';
import { forEachLimit } from '../checkpoints/limit.ts';
import { checkpointFailed, prefetch, type PrefetchItem } from '../checkpoints/prefetch.ts';
import type { ManifestFile, YumRepoSnapshot } from '../checkpoints/manifest.ts';

const fail = checkpointFailed;

/**
 * Freezes one repository: repomd.xml exactly as upstream signed it, every data file it lists
 * (verified against its checksum and stored), and a new repomd.xml.asc by the mirror key.
 */
export async function snapshotYumRepo(remote: YumRemote, dir: string, ctx: SnapshotContext, trustTls: boolean, previous?: YumRepoSnapshot[]): Promise<YumRepoSnapshot> {
  const view = await remote.repomds.fresh(dir, { force: true });
  if (view.stale) throw fail(`${dir}: upstream repomd.xml could not be refreshed (${view.stale}); the last checkpoint stays`);
  // Never re-sign what was not verified: a signature check, or (opted in, https only) the TLS connection.
  if (!view.record.verified && !trustTls) throw fail(`${dir}: repomd.xml was not verified by a keyring; refusing to re-sign it`);
  const md = await remote.repomds.parsed(view.record.sha256);
  const files: Record<string, ManifestFile> = {};
  let primary: YumRepoSnapshot['primary'];
  await forEachLimit(md.data, 4, async (d) => {
    const path = resolveHref(dir, d.location, d.xmlBase, remote.upstream.bases);
    if (path === undefined || !path.startsWith(dir === '' ? '' : `${dir}/`)) throw fail(`${dir}: data file ${d.location} is outside the repository; it cannot be frozen`);
    if (!isStrong(d.checksum)) throw fail(`${dir}/${d.location}: repomd lists only a ${d.checksum.algo} checksum`);
    const expected: Expected = { ...(d.size !== undefined ? { size: d.size } : {}), digests: [{ algo: d.checksum.algo, hex: d.checksum.hex }] };
    try {
      const blob = await ctx.content.ensure(fillSpec(remote.name, remote.upstream, path, expected));
      ctx.onFile(path, blob.size);
      const rel = dir === '' ? path : path.slice(dir.length + 1);
      files[rel] = { sha256: blob.sha256, size: blob.size };
      if (d.type === 'primary') primary = { sha256: blob.sha256, location: d.location };
    } catch (err) {
      throw fail(`${path}: ${(err as Error).message}`, err);
    }
  });
  if (!primary) throw fail(`${dir}: repomd.xml lists no primary metadata`);
  await remote.packages.ingestFrozen(dir, primary.location, primary.sha256);
  const prev = previous?.find((p) => p.dir === dir && p.repomd === view.record.sha256);
  const repomdAsc = prev && (await ctx.content.blobs.stat(prev.repomdAsc))
    ? prev.repomdAsc
    : (await ctx.content.storeBytes(Buffer.from(await ctx.signer.detachSignArmored(new Uint8Array(await readBlob(ctx, view.record.sha256)))))).sha256;
  return { dir, repomd: view.record.sha256, repomdAsc, files, primary };
}

async function readBlob(ctx: SnapshotContext, sha256: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of ctx.content.blobs.open(sha256) as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export async function snapshotYumRepos(remote: YumRemote, cfg: YumCheckpointConfig, ctx: SnapshotContext, previous?: YumRepoSnapshot[]): Promise<YumRepoSnapshot[]> {
  const repos: YumRepoSnapshot[] = [];
  for (const dir of cfg.repos) repos.push(await snapshotYumRepo(remote, dir, ctx, cfg.trustTls, previous));
  return repos;
}

/** packages: immediate — every RPM the repos' primaries list. */
export async function prefetchYumPackages(remote: YumRemote, repos: readonly YumRepoSnapshot[], ctx: SnapshotContext): Promise<number> {
  async function* items(): AsyncGenerator<PrefetchItem> {
    for (const r of repos) {
      if (!r.primary) continue;
      for await (const { path, record } of remote.packages.entries(r.dir, r.primary.location, r.primary.sha256)) {
        yield { path, expected: { size: record.size, digests: [{ algo: record.algo, hex: record.hex }] } };
      }
    }
  }
  return prefetch(items(), remote.name, remote.upstream, ctx);
}
