import type { CheckpointManifest, ManifestFile } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';
import { DerivedUpstream } from '../fill/derived-upstream.ts';
import { fillSpec } from '../fill/fill.ts';
import type { Expected } from '../formats/digests.ts';
import { dirnameOf as dirname } from '../formats/rel-path.ts';
import type { ContentService } from '../serve/content.ts';
import { IMMUTABLE, contentTypeFor, type Reply } from '../serve/reply.ts';
import type { AptRemote } from './apt-remote.ts';
import { compressionOf, isReleaseFile, parseByHashPath } from './formats/paths.ts';
import { aptSuites, type AptSuiteSnapshot } from './manifest.ts';

/** Serves one apt checkpoint: re-signed Release files, frozen indexes, pool files verified against its indexes. */
export async function serveAptCheckpoint(remote: AptRemote, content: ContentService, m: CheckpointManifest, path: string): Promise<Reply> {
  const suites = aptSuites(m);
  const meta = (p: string): Omit<Reply, 'body'> => ({ contentType: contentTypeFor(p), cacheControl: IMMUTABLE });
  const name = path.slice(path.lastIndexOf('/') + 1);
  const created = Date.parse(m.createdAt);

  // the longest suite directory that holds the path: dists/stable/updates is not dists/stable's
  const suite = suites.filter((s) => path.startsWith(`${s.dir}/`)).reduce<AptSuiteSnapshot | undefined>((a, s) => (!a || s.dir.length > a.dir.length ? s : a), undefined);
  if (suite) {
    const rel = path.slice(suite.dir.length + 1);
    if (isReleaseFile(name) && dirname(path) === suite.dir) {
      const sha = name === 'InRelease' ? suite.inRelease : name === 'Release' ? suite.release : suite.releaseGpg;
      return blob(content, sha, path, meta(path), created);
    }
    const file = fileFor(suite, rel);
    if (file?.from !== undefined) return derived(remote, content, suite, file, path, meta(path));
    if (file) return blob(content, file.sha256, path, meta(path));
    throw new RepointError('NOT_FOUND', `checkpoint ${m.ts} of ${m.remote} does not list ${path}`);
  }
  const indexes = suites.flatMap((s) => s.indexes);
  const expected = await remote.pool.lookup(path, indexes);
  if (!expected) throw new RepointError('NOT_IN_INDEX', `${path} is not listed in the indexes of checkpoint ${m.ts} of ${m.remote}`);
  return content.serve(fillSpec(remote.name, remote.upstream, path, expected), meta(path));
}

/** The uncompressed index, decompressed from the stored variant and verified against the Release digests. */
async function derived(remote: AptRemote, content: ContentService, suite: AptSuiteSnapshot, file: ManifestFile, path: string, meta: Omit<Reply, 'body'>): Promise<Reply> {
  const source = suite.files[file.from!];
  if (!source) throw new RepointError('INTERNAL', `checkpoint lists ${path} as derived from a missing file`);
  const expected: Expected = { size: file.size, digests: [{ algo: 'sha256', hex: file.sha256 }, ...(file.sha512 ? [{ algo: 'sha512' as const, hex: file.sha512 }] : [])] };
  const upstream = new DerivedUpstream(content.blobs, source.sha256, compressionOf(file.from!));
  return content.serve(fillSpec(remote.name, upstream, path, expected), meta);
}

function fileFor(s: AptSuiteSnapshot, rel: string): ManifestFile | undefined {
  const direct = s.files[rel];
  if (direct) return direct;
  const bh = parseByHashPath(rel);
  if (!bh) return undefined;
  for (const [p, f] of Object.entries(s.files)) {
    if (dirname(p) !== bh.dir) continue;
    if ((bh.algo === 'sha256' && f.sha256 === bh.hex.toLowerCase()) || (bh.algo === 'sha512' && f.sha512 === bh.hex.toLowerCase())) return f;
  }
  return undefined;
}

async function blob(content: ContentService, sha256: string, path: string, meta: Omit<Reply, 'body'>, mtimeMs?: number): Promise<Reply> {
  const hot = await content.hit(sha256);
  if (!hot) throw new RepointError('INTERNAL', `checkpoint blob ${sha256} for ${path} is missing; run "repoint verify"`);
  return content.hotReply(mtimeMs === undefined ? hot : { ...hot, info: { ...hot.info, mtimeMs } }, meta);
}
