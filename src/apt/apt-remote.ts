import type { CheckpointSource, SnapshotContext, SnapshotResult } from '../checkpoints/checkpoint-source.ts';
import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import type { AptRemoteConfig } from '../config/types.ts';
import { ancestors, dirnameOf as dirname } from '../formats/rel-path.ts';
import { RepointError, isRepointError } from '../errors.ts';
import type { Digest, Expected } from '../formats/digests.ts';
import { fillSpec } from '../fill/fill.ts';
import { strongestHash } from './formats/hashes.ts';
import { archiveRootOf, byHashPath, isReleaseFile, parseByHashPath } from './formats/paths.ts';
import type { ReleaseFile, ReleaseFileEntry } from './formats/release.ts';
import type { InputLimits } from '../formats/limits.ts';
import type { Logger } from '../log.ts';
import type { Upstream } from '../upstream/upstream.ts';
import { ContentService } from '../serve/content.ts';
import type { RemoteHandler, ServeRequest, MetadataFreshness } from '../serve/remote-handler.ts';
import { serveAptCheckpoint } from './checkpoint-view.ts';
import { snapshotApt } from './snapshot.ts';
import { IMMUTABLE, contentTypeFor, shortLived, type Reply } from '../serve/reply.ts';
import type { LiveResigner } from './live-resign.ts';
import { withOpenSize, type IndexRef } from './manifest.ts';
import { PoolIndex } from './pool-index.ts';
import type { ReleaseRecord, ReleaseStore } from './release-store.ts';

export function expectedFromEntry(e: ReleaseFileEntry): Expected {
  const digests: Digest[] = [];
  for (const algo of ['sha512', 'sha256', 'sha1', 'md5'] as const) {
    const hex = e.hashes[algo];
    if (hex) digests.push({ algo, hex: hex.toLowerCase() });
  }
  return { size: e.size, digests };
}

/**
 * apt remote: InRelease/Release are verified with the keyring; indexes against the Release the
 * proxy serves; pool files against the Packages/Sources that list them.
 */
export class AptRemote implements RemoteHandler, CheckpointSource {
  readonly name: string;
  readonly type = 'apt' as const;
  readonly releases: ReleaseStore;
  readonly pool: PoolIndex;
  readonly upstream: Upstream;
  #remote: AptRemoteConfig;
  #content: ContentService;
  #log: Logger;
  /** resign: true — the live Release files are served re-signed with the mirror key. */
  #resigner: LiveResigner | undefined;

  constructor(remote: AptRemoteConfig, upstream: Upstream, content: ContentService, releases: ReleaseStore, log: Logger, resigner?: LiveResigner, limits?: InputLimits) {
    this.name = remote.name;
    this.#remote = remote;
    this.upstream = upstream;
    this.#content = content;
    this.releases = releases;
    this.#log = log;
    this.#resigner = resigner;
    this.pool = new PoolIndex(remote.name, content.state, content.blobs, log, limits);
    releases.onNewRelease((dir, release) => {
      this.pool.track(release.then((r) => this.#refreshIndexes(dir, r)).catch((err: Error) => this.#log.warn('index refresh failed', { dir, reason: err.message })));
    });
  }

  /**
   * After a suite's Release changes, fetch and ingest the new versions of the indexes clients use.
   * Clients that update through pdiffs never ask for the new Packages.xz, yet their new packages must
   * be covered (verified and cached), not streamed through.
   */
  async #refreshIndexes(dir: string, release: ReleaseFile): Promise<void> {
    const done = new Set<string>();
    for (const ref of await this.pool.liveIndexes()) {
      if (ref.dir !== dir || done.has(ref.path)) continue;
      done.add(ref.path); // newest first: compare with the latest generation only
      const entry = release.files.get(ref.path);
      if (!entry || entry.hashes.sha256?.toLowerCase() === ref.sha256) continue;
      const expected = expectedFromEntry(entry);
      if (!ContentService.hasStrong(expected)) continue;
      const blob = await this.#content.ensure(fillSpec(this.name, this.upstream, joinDir(dir, entry.path), expected, this.#indexSources(dir, entry, release)));
      await this.pool.ingest(withOpenSize({ sha256: blob.sha256, root: ref.root, path: ref.path, dir }, release.openSizeOf(ref.path)), true);
    }
  }

  /** by-hash first when the Release offers it, then the plain name. */
  #indexSources(dir: string, entry: ReleaseFileEntry, release: ReleaseFile): string[] {
    const strongest = strongestHash(entry.hashes);
    const plain = joinDir(dir, entry.path);
    return release.acquireByHash && strongest ? [joinDir(dir, byHashPath(entry.path, strongest.algo, strongest.hex)), plain] : [plain];
  }

  freshness(): Promise<MetadataFreshness[]> {
    return this.releases.freshness();
  }

  async handle(path: string, _req: ServeRequest): Promise<Reply> {
    if (path === '' || path.endsWith('/')) throw new RepointError('NOT_FOUND', `no directory listing for /${this.name}/${path}`);
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (isReleaseFile(name)) return this.#serveRelease(dirname(path), name);

    const idx = await this.#findIndex(path);
    if (idx) return idx;

    const pooled = await this.pool.lookup(path);
    if (pooled && ContentService.hasStrong(pooled)) {
      return this.#content.serve(
        fillSpec(this.name, this.upstream, path, pooled),
        { contentType: contentTypeFor(path), cacheControl: IMMUTABLE },
      );
    }
    return this.#uncovered(path);
  }

  snapshot(ctx: SnapshotContext): Promise<SnapshotResult> {
    if (!this.#remote.checkpoints) throw new RepointError('CHECKPOINT_FAILED', `remotes.${this.name}.checkpoints is not configured`);
    return snapshotApt(this, this.#remote.checkpoints, ctx);
  }

  serveCheckpoint(m: CheckpointManifest, path: string, _req: ServeRequest): Promise<Reply> {
    return serveAptCheckpoint(this, this.#content, m, path);
  }

  async #serveRelease(dir: string, name: string): Promise<Reply> {
    const kind = name === 'InRelease' ? 'inrelease' : 'release';
    // Release.gpg must match the Release the client just got: no revalidation in between.
    const view = await this.releases.serveable(kind, dir, { revalidate: name !== 'Release.gpg' });
    const sha = await this.#releaseBlob(name, view.record);
    const info = sha ? await this.#content.hit(sha) : undefined;
    if (!info) throw new RepointError('NOT_FOUND', `no verified ${name} for ${dir}`);
    const mtime = view.record.lastModified ? Date.parse(view.record.lastModified) : view.record.fetchedAt;
    const headers: Record<string, string> = view.stale
      ? { 'x-repoint-stale': view.stale, warning: '111 repoint "Revalidation Failed"' }
      : {};
    return this.#content.hotReply({ ...info, info: { ...info.info, mtimeMs: Number.isNaN(mtime) ? info.info.mtimeMs : mtime } }, {
      contentType: contentTypeFor(name), cacheControl: shortLived(this.#remote.metadataTtlMs), headers,
    });
  }

  /** Upstream's exact file, or (resign: true) the mirror's re-signing of its verified text. */
  async #releaseBlob(name: string, record: ReleaseRecord): Promise<string | undefined> {
    if (!this.#resigner) return name === 'Release.gpg' ? record.gpgSha256 : record.sha256;
    const out = await this.#resigner.outputs(record.textSha256);
    return name === 'InRelease' ? out.inRelease : name === 'Release' ? out.release : out.releaseGpg;
  }

  /** An index (or its by-hash twin) listed in the verified Release of an enclosing suite. */
  async #findIndex(path: string): Promise<Reply | undefined> {
    for (const dir of ancestors(path)) {
      const cur = await this.releases.current(dir);
      if (!cur) continue;
      const rel = dir === '' ? path : path.slice(dir.length + 1);
      const entry = this.#entryFor(rel, cur.release, cur.history);
      if (!entry) return undefined;
      const expected = expectedFromEntry(entry.entry);
      if (!ContentService.hasStrong(expected)) return undefined;
      const sources = entry.byHash ? [path] : this.#indexSources(dir, entry.entry, cur.release);
      const reply = await this.#content.serve(
        fillSpec(this.name, this.upstream, path, expected, sources),
        { contentType: contentTypeFor(entry.entry.path), cacheControl: entry.byHash ? IMMUTABLE : shortLived(this.#remote.metadataTtlMs) },
      );
      await this.#ingestWhenStored(reply, entry.entry.path, dir, entry.release.openSizeOf(entry.entry.path), expected.digests.find((d) => d.algo === 'sha256')?.hex);
      return reply;
    }
    return undefined;
  }

  #entryFor(rel: string, release: ReleaseFile, history: ReleaseFile[]): { entry: ReleaseFileEntry; byHash: boolean; release: ReleaseFile } | undefined {
    const bh = parseByHashPath(rel);
    if (!bh) {
      const entry = release.files.get(rel);
      return entry ? { entry, byHash: false, release } : undefined;
    }
    for (const r of [release, ...history]) {
      const entry = r.findByHash(bh.algo, bh.hex, bh.dir);
      if (entry) return { entry, byHash: true, release: r };
    }
    return undefined;
  }

  /**
   * Ingests a served live index once it is stored. It is announced first, before the client can have
   * it, so a client that moves on to another node sharing the state finds that node waiting for it.
   */
  async #ingestWhenStored(reply: Reply, indexPath: string, dir: string, openSize: number | undefined, sha256?: string): Promise<void> {
    const root = archiveRootOf(dir);
    const refOf = (hex: string): IndexRef => withOpenSize({ sha256: hex, root, path: indexPath, dir }, openSize);
    const ingest = (hex: string): void => {
      this.pool.ingest(refOf(hex), true)
        .catch((err: Error) => this.#log.error('index ingestion failed', { index: indexPath, code: isRepointError(err) ? err.code : undefined, reason: err.message }));
    };
    if (sha256 !== undefined && reply.body.kind !== 'bytes') await this.pool.announce(refOf(sha256));
    if (reply.body.kind === 'blob') ingest(reply.body.sha256);
    else if (reply.body.kind === 'bytes' && reply.body.sha256) ingest(reply.body.sha256);
    else if (reply.body.kind === 'growing') {
      reply.body.done.then((blob) => ingest(blob.sha256), () => void (sha256 !== undefined && this.pool.withdraw(refOf(sha256))));
    }
  }

  async #uncovered(path: string): Promise<Reply> {
    if (this.#remote.strict) {
      throw new RepointError('NOT_IN_INDEX', `${path} is not listed in any verified index of remote ${this.name} (strict mode)`);
    }
    this.#log.debug('uncovered path', { path });
    return this.#content.passthrough(this.upstream, path, { contentType: contentTypeFor(path), cacheControl: 'no-store' });
  }
}

function joinDir(dir: string, rel: string): string {
  return dir === '' ? rel : `${dir}/${rel}`;
}
