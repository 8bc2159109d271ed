import type { SnapshotContext, SnapshotResult } from '../checkpoints/checkpoint-source.ts';
import { forEachLimit } from '../checkpoints/limit.ts';
import type { ManifestFile } from '../checkpoints/manifest.ts';
import { checkpointFailed, prefetch, type PrefetchItem } from '../checkpoints/prefetch.ts';
import type { YumCheckpointConfig } from '../config/types.ts';
import { fillSpec } from '../fill/fill.ts';
import { isStrong, type Expected } from '../formats/digests.ts';
import { resolveHref } from './formats/yum-paths.ts';
import { primaryOf, yumRepos, type YumRepoSnapshot } from './manifest.ts';
import { primaryEntries } from './package-index.ts';
import type { YumRemote } from './yum-remote.ts';

const fail = checkpointFailed;

/**
 * Freezes one repository: repomd.xml exactly as upstream signed it, every data file it lists
 * (verified against its checksum and stored), and a new repomd.xml.asc by the mirror key.
 */
async function snapshotYumRepo(remote: YumRemote, dir: string, ctx: SnapshotContext, trustTls: boolean, previous?: YumRepoSnapshot[]): Promise<YumRepoSnapshot> {
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
  await remote.packages.ingest({ sha256: primary.sha256, dir, location: primary.location }, false);
  const prev = previous?.find((p) => p.dir === dir && p.repomd === view.record.sha256);
  const repomdAsc = prev && (await ctx.content.blobs.stat(prev.repomdAsc))
    ? prev.repomdAsc
    : (await ctx.content.storeBytes(Buffer.from(await ctx.signer.detachSignArmored(new Uint8Array(await ctx.content.blobs.readAll(view.record.sha256)))))).sha256;
  return { dir, repomd: view.record.sha256, repomdAsc, files, primary };
}

export async function snapshotYum(remote: YumRemote, cfg: YumCheckpointConfig, ctx: SnapshotContext): Promise<SnapshotResult> {
  const previous = ctx.previous ? yumRepos(ctx.previous) : undefined;
  const repos: YumRepoSnapshot[] = [];
  for (const dir of cfg.repos) repos.push(await snapshotYumRepo(remote, dir, ctx, cfg.trustTls, previous));
  const packages = cfg.packages === 'immediate' ? await prefetchYumPackages(remote, repos, ctx) : undefined;
  return { fields: { repos }, ...(packages !== undefined ? { packages } : {}) };
}

/** packages: immediate — every RPM the repos' primaries list. */
async function prefetchYumPackages(remote: YumRemote, repos: readonly YumRepoSnapshot[], ctx: SnapshotContext): Promise<number> {
  async function* items(): AsyncGenerator<PrefetchItem> {
    for (const r of repos) {
      const primary = primaryOf(r);
      if (!primary) continue;
      for await (const { path, record } of primaryEntries(ctx.content.blobs, remote.upstream.bases, primary)) {
        yield { path, expected: { size: record.size, digests: [{ algo: record.algo, hex: record.hex }] } };
      }
    }
  }
  return prefetch(items(), remote.name, remote.upstream, ctx);
}
