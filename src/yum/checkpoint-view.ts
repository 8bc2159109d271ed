import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';
import { fillSpec } from '../fill/fill.ts';
import type { ContentService } from '../serve/content.ts';
import { IMMUTABLE, contentTypeFor, type Reply } from '../serve/reply.ts';
import { primaryOf, yumRepos, type YumRepoSnapshot } from './manifest.ts';
import type { YumRemote } from './yum-remote.ts';

/** Serves one yum checkpoint: upstream's repomd.xml with the mirror's signature, frozen metadata, RPMs verified against its primary. */
export async function serveYumCheckpoint(remote: YumRemote, content: ContentService, m: CheckpointManifest, path: string): Promise<Reply> {
  const meta: Omit<Reply, 'body'> = { contentType: contentTypeFor(path), cacheControl: IMMUTABLE };
  const repo = [...yumRepos(m)].sort((a, b) => b.dir.length - a.dir.length).find((r) => r.dir === '' || path.startsWith(`${r.dir}/`));
  if (!repo) throw new RepointError('NOT_FOUND', `checkpoint ${m.ts} of ${m.remote} has no repository containing ${path}`);
  const rel = repo.dir === '' ? path : path.slice(repo.dir.length + 1);
  const sha = fileSha(repo, rel);
  if (sha) {
    const hot = await content.hit(sha);
    if (!hot) throw new RepointError('INTERNAL', `checkpoint blob ${sha} for ${path} is missing; run "repoint verify"`);
    return content.hotReply({ ...hot, info: { ...hot.info, mtimeMs: Date.parse(m.createdAt) } }, rel === 'repodata/repomd.xml.asc' ? { ...meta, contentType: 'application/pgp-signature' } : meta);
  }
  if (rel.startsWith('repodata/')) throw new RepointError('NOT_FOUND', `checkpoint ${m.ts} of ${m.remote} does not list ${path}`);
  const primary = primaryOf(repo);
  const expected = primary ? await remote.packages.lookup(path, [primary]) : undefined;
  if (!expected) throw new RepointError('NOT_IN_INDEX', `${path} is not listed in the primary of checkpoint ${m.ts} of ${m.remote}`);
  return content.serve(fillSpec(remote.name, remote.upstream, path, expected), meta);
}

function fileSha(repo: YumRepoSnapshot, rel: string): string | undefined {
  if (rel === 'repodata/repomd.xml') return repo.repomd;
  if (rel === 'repodata/repomd.xml.asc') return repo.repomdAsc;
  return repo.files[rel]?.sha256;
}
