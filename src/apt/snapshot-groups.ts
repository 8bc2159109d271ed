import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { SnapshotContext } from '../checkpoints/checkpoint-source.ts';
import type { ManifestFile } from '../checkpoints/manifest.ts';
import { checkpointFailed as fail } from '../checkpoints/prefetch.ts';
import { isRepointError } from '../errors.ts';
import { fillSpec } from '../fill/fill.ts';
import { MultiHasher, isStrong, type Expected } from '../formats/digests.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import { ContentService } from '../serve/content.ts';
import { DEFAULT_LIMITS } from '../formats/limits.ts';
import { ByteCap } from '../streams/byte-cap.ts';
import { decoderStages } from '../streams/decompress.ts';
import { expectedFromEntry, type AptRemote } from './apt-remote.ts';
import { strongestHash } from './formats/hashes.ts';
import { byHashPath, compressionOf, stripCompression } from './formats/paths.ts';
import type { ReleaseFile } from './formats/release.ts';
import type { LeftOutFile } from './manifest.ts';

/** What one index group (an index and its compression variants) gave: the files kept, the ones that failed. */
export interface GroupOutcome {
  kept: Record<string, ManifestFile>;
  failed: LeftOutFile[];
}

/** One suite's Release being frozen: where it is, and whether failures fail the checkpoint. */
export interface GroupScope {
  remote: AptRemote;
  release: ReleaseFile;
  dir: string;
  ctx: SnapshotContext;
  /**
   * Packages/Sources: any failure but a 404 fails the checkpoint. Auxiliary indexes: a failure that is
   * upstream's (an UPSTREAM_* error: not found, size or digest mismatch, unavailable, ...) or a
   * decompressed file that does not match is recorded instead, and the group is left out.
   */
  core: boolean;
}

/**
 * Stores the best compressed variant of one index and, when Release lists the uncompressed name
 * (apt only uses an index whose uncompressed name is listed), checks that decompressing it gives
 * exactly that file, so the checkpoint can serve it on demand without storing it. A group with
 * nothing usable comes back with nothing kept: every listed path of it is then in `failed`.
 */
export async function storeGroup(scope: GroupScope, group: readonly string[]): Promise<GroupOutcome> {
  const { release, dir, ctx } = scope;
  const base = stripCompression(group[0]!);
  const baseEntry = release.files.get(base);
  const kept: Record<string, ManifestFile> = {};
  const failed: LeftOutFile[] = [];
  const store = async (path: string): Promise<ManifestFile | undefined> => {
    const r = await storeListed(scope, path);
    if ('file' in r) kept[path] = r.file;
    else failed.push({ path, reason: r.reason });
    return 'file' in r ? r.file : undefined;
  };
  const dropGroup = (why: string): GroupOutcome => {
    const listed = new Set(failed.map((f) => f.path));
    return { kept: {}, failed: [...failed, ...group.filter((p) => !listed.has(p)).map((path) => ({ path, reason: why }))] };
  };

  const compressed = group.filter((p) => p !== base);
  if (baseEntry && compressed.every((p) => compressionOf(p) === 'bz2')) {
    // bz2 cannot be decompressed here, and apt needs the uncompressed name served: without the plain file
    // upstream (Debian's Translation-*), leave the index out rather than download a useless bz2.
    if (!(await store(base))) return dropGroup(`only bz2 is published and ${base} is not usable: repoint cannot decompress bz2`);
  }
  let chosen: { path: string; file: ManifestFile } | undefined;
  for (const path of compressed) {
    const file = await store(path);
    if (file) {
      chosen = { path, file };
      break;
    }
  }
  if (!baseEntry || kept[base]) return { kept, failed };
  if (chosen && compressionOf(chosen.path) !== 'bz2' && baseEntry.hashes.sha256) {
    const bad = await derivedMismatch(ctx, chosen.file.sha256, compressionOf(chosen.path), expectedFromEntry(baseEntry));
    if (bad === undefined) {
      kept[base] = { sha256: baseEntry.hashes.sha256.toLowerCase(), size: baseEntry.size, from: chosen.path, ...(baseEntry.hashes.sha512 ? { sha512: baseEntry.hashes.sha512.toLowerCase() } : {}) };
      return { kept, failed };
    }
    const reason = `decompressing ${chosen.path} does not give the ${base} the Release lists (${bad})`;
    if (scope.core) throw fail(`${joinRelPath(dir, base)}: ${reason}`);
    failed.push({ path: base, reason });
    return dropGroup(`left out with ${base}: ${reason}`);
  }
  if (await store(base)) return { kept, failed };
  // apt would ignore a compressed-only listing, so leave the index out entirely
  return chosen ? dropGroup(`apt uses an index only when its uncompressed name ${base} is listed, and that is not usable`) : { kept: {}, failed };
}

/** Why decompressing the stored variant does not give the expected file, or undefined when it does. */
async function derivedMismatch(ctx: SnapshotContext, fromSha256: string, compression: ReturnType<typeof compressionOf>, expected: Expected): Promise<string | undefined> {
  const hasher = new MultiHasher(expected.digests.filter(isStrong).map((d) => d.algo));
  let size = 0;
  try {
    // a signed bomb stops right past the listed size (ByteCap), with flat memory (decoderStages)
    await pipeline([ctx.content.blobs.open(fromSha256), ...decoderStages(compression), new ByteCap(expected.size ?? DEFAULT_LIMITS.indexMaxBytes, 'the index'), new Writable({
      write(chunk: Buffer, _enc, cb) { hasher.update(chunk); size += chunk.length; cb(); },
    })]);
  } catch (err) {
    return `decompression failed: ${(err as Error).message}`;
  }
  const bad = hasher.mismatch(expected.digests.filter(isStrong));
  return bad ? `${bad.digest.algo} mismatch` : size !== expected.size ? `size ${size} != ${expected.size}` : undefined;
}

async function storeListed(scope: GroupScope, path: string): Promise<{ file: ManifestFile } | { reason: string }> {
  const { remote, release, dir, ctx } = scope;
  const entry = release.files.get(path);
  if (!entry) return { reason: 'not listed in the Release' };
  const expected = expectedFromEntry(entry);
  const plain = joinRelPath(dir, path);
  if (!ContentService.hasStrong(expected)) {
    if (scope.core) throw fail(`${plain}: Release lists no sha256 or stronger digest`);
    return { reason: 'the Release lists no sha256 or stronger digest' };
  }
  const strongest = strongestHash(entry.hashes);
  const sources = release.acquireByHash && strongest ? [joinRelPath(dir, byHashPath(path, strongest.algo, strongest.hex)), plain] : [plain];
  try {
    const blob = await ctx.content.ensure(fillSpec(remote.name, remote.upstream, plain, expected, sources));
    ctx.onFile(plain, blob.size);
    return { file: { sha256: blob.sha256, size: blob.size, ...(entry.hashes.sha512 ? { sha512: entry.hashes.sha512.toLowerCase() } : {}) } };
  } catch (err) {
    // listed but not published (typical for uncompressed indexes)
    if (isRepointError(err, 'UPSTREAM_NOT_FOUND')) return { reason: `not published upstream: ${err.message}` };
    if (!scope.core && isRepointError(err) && err.code.startsWith('UPSTREAM_')) return { reason: `${err.code}: ${err.message}` };
    throw fail(`${plain}: ${(err as Error).message}`, err);
  }
}
