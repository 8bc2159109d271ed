import type { SnapshotContext, SnapshotResult } from '../checkpoints/checkpoint-source.ts';
import { forEachLimit } from '../checkpoints/limit.ts';
import type { ManifestFile } from '../checkpoints/manifest.ts';
import { checkpointFailed, prefetch, type PrefetchItem } from '../checkpoints/prefetch.ts';
import type { AptCheckpointConfig } from '../config/types.ts';
import { isRepointError } from '../errors.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import type { AptRemote } from './apt-remote.ts';
import { isCoreIndex, selectCheckpointGroups } from './formats/checkpoint-select.ts';
import { archiveRootOf, indexKindOf } from './formats/paths.ts';
import { writeRelease } from './formats/release-writer.ts';
import { aptSuites, withOpenSize, type AptSuiteSnapshot, type IndexRef, type LeftOutFile } from './manifest.ts';
import { poolEntries } from './pool-index.ts';
import type { ReleaseView } from './release-store.ts';
import { storeGroup } from './snapshot-groups.ts';

const fail = checkpointFailed;

async function freshRelease(remote: AptRemote, dir: string): Promise<ReleaseView> {
  let view: ReleaseView;
  try {
    view = await remote.releases.fresh('inrelease', dir, { force: true });
  } catch (err) {
    if (!isRepointError(err, 'UPSTREAM_NOT_FOUND')) throw err;
    view = await remote.releases.fresh('release', dir, { force: true });
  }
  if (view.stale) throw fail(`${dir}: upstream metadata could not be refreshed (${view.stale}); the last checkpoint stays`);
  return view;
}

/** Verifies and stores everything a suite's re-signed Release will list, then signs it. */
export async function snapshotApt(remote: AptRemote, cfg: AptCheckpointConfig, ctx: SnapshotContext): Promise<SnapshotResult> {
  const previous = ctx.previous ? aptSuites(ctx.previous) : undefined;
  const suites: AptSuiteSnapshot[] = [];
  for (const suite of cfg.suites) suites.push(await snapshotAptSuite(remote, cfg, suite, ctx, previous));
  const packages = cfg.packages === 'immediate' ? await prefetchAptPackages(remote, suites, ctx) : undefined;
  return { fields: { suites }, ...(packages !== undefined ? { packages } : {}) };
}

async function snapshotAptSuite(remote: AptRemote, cfg: AptCheckpointConfig, suite: string, ctx: SnapshotContext, previous: AptSuiteSnapshot[] | undefined): Promise<AptSuiteSnapshot> {
  const dir = `dists/${suite}`;
  const view = await freshRelease(remote, dir);
  const release = await remote.releases.parsed(view.record.textSha256);
  const groups = selectCheckpointGroups(release, cfg.components, cfg.architectures, cfg.indexes);
  if (!groups.some((g) => g.some((p) => indexKindOf(p) === 'packages'))) {
    throw fail(`${dir}: Release lists no Packages index for components ${cfg.components.join(',')} and architectures ${cfg.architectures.join(',')}`);
  }
  const files: Record<string, ManifestFile> = {};
  const leftOut: LeftOutFile[] = [];
  await forEachLimit(groups, 4, async (group) => {
    const core = group.some(isCoreIndex);
    const { kept, failed } = await storeGroup({ remote, release, dir, ctx, core }, group);
    if (core && Object.keys(kept).length === 0) {
      throw fail(`${dir}: no usable variant of ${group[0]} is available upstream (${failed.map((f) => `${f.path}: ${f.reason}`).join('; ')})`);
    }
    Object.assign(files, kept);
    for (const f of failed) {
      leftOut.push(f);
      // apt aborts an update when a listed index is missing: the re-signed Release does not list these
      ctx.log.warn('checkpoint leaves out a file it cannot serve', { dir, file: f.path, reason: f.reason });
    }
  });
  leftOut.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const root = archiveRootOf(dir);
  const indexes: IndexRef[] = Object.entries(files)
    .filter(([path, f]) => indexKindOf(path) !== 'other' && f.from === undefined)
    .map(([path, f]) => withOpenSize({ sha256: f.sha256, root, path }, release.openSizeOf(path)));
  for (const ref of indexes) await remote.pool.ingest(ref, false);

  const text = writeRelease(release, { keepPaths: new Set(Object.keys(files)), snapshotsUrl: ctx.snapshotsUrl, validUntil: null });
  const releaseBlob = await ctx.content.storeBytes(Buffer.from(text));
  // An unchanged Release keeps the previous signatures, so an unchanged checkpoint adds only its manifest.
  const prev = previous?.find((p) => p.dir === dir && p.release === releaseBlob.sha256);
  const [inRelease, releaseGpg] = prev && (await ctx.content.blobs.stat(prev.inRelease)) && (await ctx.content.blobs.stat(prev.releaseGpg))
    ? [prev.inRelease, prev.releaseGpg]
    : await Promise.all([
      ctx.signer.clearsign(text).then(async (s) => (await ctx.content.storeBytes(Buffer.from(s))).sha256),
      // apt refuses a binary Release.gpg, so it is armored as Debian publishes it
      ctx.signer.detachSignArmored(Buffer.from(text)).then(async (s) => (await ctx.content.storeBytes(Buffer.from(s))).sha256),
    ]);
  return { dir, upstream: view.record.sha256, release: releaseBlob.sha256, inRelease, releaseGpg, files, indexes, leftOut };
}

/** packages: immediate — every package the suites' indexes list (each path once). */
async function prefetchAptPackages(remote: AptRemote, suites: readonly AptSuiteSnapshot[], ctx: SnapshotContext): Promise<number> {
  async function* items(): AsyncGenerator<PrefetchItem> {
    const seen = new Set<string>();
    for (const s of suites) {
      for (const ref of s.indexes) {
        for await (const e of poolEntries(ctx.content.blobs, ref)) {
          const path = joinRelPath(ref.root, e.filename);
          if (seen.has(path) || (!e.sha256 && !e.sha512)) continue;
          seen.add(path);
          yield { path, expected: { size: e.size, digests: [...(e.sha256 ? [{ algo: 'sha256' as const, hex: e.sha256 }] : []), ...(e.sha512 ? [{ algo: 'sha512' as const, hex: e.sha512 }] : [])] } };
        }
      }
    }
  }
  return prefetch(items(), remote.name, remote.upstream, ctx);
}
