import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SnapshotContext, SnapshotResult } from '../checkpoints/checkpoint-source.ts';
import { forEachLimit } from '../checkpoints/limit.ts';
import type { ManifestFile } from '../checkpoints/manifest.ts';
import { checkpointFailed, prefetch, type PrefetchItem } from '../checkpoints/prefetch.ts';
import type { AptCheckpointConfig } from '../config/types.ts';
import { isRepointError } from '../errors.ts';
import { fillSpec } from '../fill/fill.ts';
import { MultiHasher, isStrong, type Expected } from '../formats/digests.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import { ContentService } from '../serve/content.ts';
import { decompressor } from '../streams/decompress.ts';
import { expectedFromEntry, type AptRemote } from './apt-remote.ts';
import { selectCheckpointGroups } from './formats/checkpoint-select.ts';
import { strongestHash } from './formats/hashes.ts';
import { archiveRootOf, byHashPath, compressionOf, indexKindOf, stripCompression } from './formats/paths.ts';
import { writeRelease } from './formats/release-writer.ts';
import type { ReleaseFile } from './formats/release.ts';
import { aptSuites, type AptSuiteSnapshot, type IndexRef } from './manifest.ts';
import { poolEntries } from './pool-index.ts';
import type { ReleaseView } from './release-store.ts';

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
  const groups = selectCheckpointGroups(release, cfg.components, cfg.architectures);
  if (!groups.some((g) => g.some((p) => indexKindOf(p) === 'packages'))) {
    throw fail(`${dir}: Release lists no Packages index for components ${cfg.components.join(',')} and architectures ${cfg.architectures.join(',')}`);
  }
  const files: Record<string, ManifestFile> = {};
  await forEachLimit(groups, 4, async (group) => {
    const stored = await storeGroup(remote, release, dir, group, ctx);
    if (Object.keys(stored).length) Object.assign(files, stored);
    else if (group.some((p) => indexKindOf(p) !== 'other')) throw fail(`${dir}: no usable variant of ${group[0]} is available upstream`);
    else ctx.log.warn('checkpoint leaves out a file it cannot serve', { dir, file: group[0] });
  });
  const root = archiveRootOf(dir);
  const indexes: IndexRef[] = Object.entries(files)
    .filter(([path, f]) => indexKindOf(path) !== 'other' && f.from === undefined)
    .map(([path, f]) => ({ sha256: f.sha256, root, path }));
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
  return { dir, upstream: view.record.sha256, release: releaseBlob.sha256, inRelease, releaseGpg, files, indexes };
}

/**
 * Stores the best compressed variant of one index and, when Release lists the uncompressed name
 * (apt only uses an index whose uncompressed name is listed), checks that decompressing it gives
 * exactly that file, so the checkpoint can serve it on demand without storing it.
 */
async function storeGroup(remote: AptRemote, release: ReleaseFile, dir: string, group: readonly string[], ctx: SnapshotContext): Promise<Record<string, ManifestFile>> {
  const base = stripCompression(group[0]!);
  const baseEntry = release.files.get(base);
  const kept: Record<string, ManifestFile> = {};
  const compressed = group.filter((p) => p !== base);
  if (baseEntry && compressed.every((p) => compressionOf(p) === 'bz2')) {
    // bz2 cannot be decompressed here, and apt needs the uncompressed name served: without the plain file
    // upstream (Debian's Translation-*), leave the index out rather than download a useless bz2.
    const plain = await storeListed(remote, release, dir, base, ctx);
    if (!plain) return {};
    kept[base] = plain;
  }
  let chosen: { path: string; file: ManifestFile } | undefined;
  for (const path of compressed) {
    const file = await storeListed(remote, release, dir, path, ctx);
    if (file) {
      chosen = { path, file };
      kept[path] = file;
      break;
    }
  }
  if (!baseEntry || kept[base]) return kept;
  const derivable = chosen && compressionOf(chosen.path) !== 'bz2';
  if (chosen && derivable && baseEntry.hashes.sha256) {
    const expected = expectedFromEntry(baseEntry);
    await verifyDerived(ctx, chosen.file.sha256, compressionOf(chosen.path), expected, joinRelPath(dir, base));
    kept[base] = { sha256: baseEntry.hashes.sha256.toLowerCase(), size: baseEntry.size, from: chosen.path, ...(baseEntry.hashes.sha512 ? { sha512: baseEntry.hashes.sha512.toLowerCase() } : {}) };
    return kept;
  }
  const plain = await storeListed(remote, release, dir, base, ctx);
  if (plain) kept[base] = plain;
  else if (chosen) return {}; // apt would ignore a compressed-only listing, so leave the index out entirely
  return kept;
}

async function verifyDerived(ctx: SnapshotContext, fromSha256: string, compression: ReturnType<typeof compressionOf>, expected: Expected, what: string): Promise<void> {
  const hasher = new MultiHasher(expected.digests.filter(isStrong).map((d) => d.algo));
  let size = 0;
  await pipeline(ctx.content.blobs.open(fromSha256), decompressor(compression), new Writable({
    write(chunk: Buffer, _enc, cb) { hasher.update(chunk); size += chunk.length; cb(); },
  }));
  const bad = hasher.mismatch(expected.digests.filter(isStrong));
  if (bad || size !== expected.size) throw fail(`${what}: the decompressed index does not match the Release (${bad ? `${bad.digest.algo} mismatch` : `size ${size} != ${expected.size}`})`);
}

async function storeListed(remote: AptRemote, release: ReleaseFile, dir: string, path: string, ctx: SnapshotContext): Promise<ManifestFile | undefined> {
  const entry = release.files.get(path);
  if (!entry) return undefined;
  const expected = expectedFromEntry(entry);
  if (!ContentService.hasStrong(expected)) throw fail(`${dir}/${path}: Release lists no sha256 or stronger digest`);
  const strongest = strongestHash(entry.hashes);
  const plain = joinRelPath(dir, path);
  const sources = release.acquireByHash && strongest ? [joinRelPath(dir, byHashPath(path, strongest.algo, strongest.hex)), plain] : [plain];
  try {
    const blob = await ctx.content.ensure(fillSpec(remote.name, remote.upstream, plain, expected, sources));
    ctx.onFile(plain, blob.size);
    return { sha256: blob.sha256, size: blob.size, ...(entry.hashes.sha512 ? { sha512: entry.hashes.sha512.toLowerCase() } : {}) };
  } catch (err) {
    if (isRepointError(err, 'UPSTREAM_NOT_FOUND')) return undefined; // listed but not published (typical for uncompressed indexes)
    throw fail(`${plain}: ${(err as Error).message}`, err);
  }
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
