import type { CheckpointSource, SnapshotContext, SnapshotResult } from '../checkpoints/checkpoint-source.ts';
import type { CheckpointManifest } from '../checkpoints/manifest.ts';
import type { YumRemoteConfig } from '../config/types.ts';
import { RepointError, isRepointError } from '../errors.ts';
import type { InputLimits } from '../formats/limits.ts';
import { isStrong, type Expected } from '../formats/digests.ts';
import { fillSpec, type FillSpec } from '../fill/fill.ts';
import type { YumChecksum } from './formats/checksum.ts';
import type { Repomd, RepomdData } from './formats/repomd.ts';
import type { Logger } from '../log.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { ContentService } from '../serve/content.ts';
import type { RemoteHandler, ServeRequest, MetadataFreshness } from '../serve/remote-handler.ts';
import { IMMUTABLE, contentTypeFor, shortLived, type Reply } from '../serve/reply.ts';
import { serveYumCheckpoint } from './checkpoint-view.ts';
import type { PrimaryRef } from './manifest.ts';
import { PackageIndex } from './package-index.ts';
import { snapshotYum } from './snapshot.ts';
import type { RepomdStore } from './repomd-store.ts';
import { ancestors } from '../formats/rel-path.ts';
import { isHashNamed, resolveHref, splitRepodataPath } from './formats/yum-paths.ts';

function withOpenSize(ref: PrimaryRef, openSize: number | undefined): PrimaryRef {
  return openSize === undefined ? ref : { ...ref, openSize };
}

function expectedOf(checksum: YumChecksum, size: number | undefined): Expected {
  return { ...(size !== undefined ? { size } : {}), digests: [{ algo: checksum.algo, hex: checksum.hex }] };
}

/**
 * yum/dnf remote: repomd.xml is verified with the keyring (repomd.xml.asc); data files against
 * the repomd the proxy serves; RPMs against the primary.xml that lists them.
 */
export class YumRemote implements RemoteHandler, CheckpointSource {
  readonly name: string;
  readonly type = 'yum' as const;
  readonly repomds: RepomdStore;
  readonly packages: PackageIndex;
  #remote: YumRemoteConfig;
  readonly upstream: Upstream;
  #content: ContentService;
  #log: Logger;

  constructor(remote: YumRemoteConfig, upstream: Upstream, content: ContentService, repomds: RepomdStore, log: Logger, limits?: InputLimits) {
    this.name = remote.name;
    this.#remote = remote;
    this.upstream = upstream;
    this.#content = content;
    this.repomds = repomds;
    this.#log = log;
    this.packages = new PackageIndex(remote.name, upstream.bases, content.state, content.blobs, log, limits);
    // zchunk clients never fetch primary.xml: start fetching and ingesting it as soon as a new repomd
    // is verified, so their first RPM request does not wait for a whole primary download.
    repomds.onNewRepomd((dir) => { void this.#ensureIngested(dir); });
  }

  freshness(): Promise<MetadataFreshness[]> {
    return this.repomds.freshness();
  }

  async handle(path: string, _req: ServeRequest): Promise<Reply> {
    if (path === '' || path.endsWith('/')) throw new RepointError('NOT_FOUND', `no directory listing for /${this.name}/${path}`);
    const md = splitRepodataPath(path);
    if (md && (md.name === 'repomd.xml' || md.name === 'repomd.xml.asc')) return this.#serveRepomd(md.dir, md.name);
    // the hot path (an RPM) is one key read; data files live in repodata/ unless an xml:base moves them
    if (md) return (await this.#findData(path, md.dir)) ?? (await this.#findPackage(path)) ?? this.#uncovered(path);
    return (await this.#findPackage(path)) ?? (await this.#findData(path, undefined)) ?? this.#uncovered(path);
  }

  snapshot(ctx: SnapshotContext): Promise<SnapshotResult> {
    if (!this.#remote.checkpoints) throw new RepointError('CHECKPOINT_FAILED', `remotes.${this.name}.checkpoints is not configured`);
    return snapshotYum(this, this.#remote.checkpoints, ctx);
  }

  serveCheckpoint(m: CheckpointManifest, path: string, _req: ServeRequest): Promise<Reply> {
    return serveYumCheckpoint(this, this.#content, m, path);
  }

  async #serveRepomd(dir: string, name: string): Promise<Reply> {
    // The .asc follows the record the client just got with repomd.xml: revalidating here could
    // pair it with a newer repomd than the one the client holds.
    const view = await this.repomds.serveable(dir, { revalidate: name === 'repomd.xml' });
    const sha = name === 'repomd.xml' ? view.record.sha256 : view.record.ascSha256;
    if (!sha) throw new RepointError('NOT_FOUND', `upstream publishes no ${name} for /${this.name}/${dir}`);
    const info = await this.#content.blobs.stat(sha);
    if (!info) throw new RepointError('NOT_FOUND', `no verified ${name} is stored for /${this.name}/${dir}`);
    const mtime = view.record.lastModified ? Date.parse(view.record.lastModified) : view.record.fetchedAt;
    const headers: Record<string, string> = view.stale
      ? { 'x-repoint-stale': view.stale, warning: '111 repoint "Revalidation Failed"' }
      : {};
    return this.#content.blobReply({ ...info, mtimeMs: Number.isNaN(mtime) ? info.mtimeMs : mtime }, {
      contentType: contentTypeFor(name), cacheControl: shortLived(this.#remote.metadataTtlMs), headers,
    });
  }

  /** A data file listed in the verified repomd (current or recent) of an enclosing repository. */
  async #findData(path: string, repodataDir: string | undefined): Promise<Reply | undefined> {
    for (const dir of ancestors(path)) {
      let cur = await this.repomds.current(dir);
      if (!cur && dir === repodataDir) cur = await this.#repomdFor(dir);
      if (!cur) continue;
      const entry = this.#entryFor(path, dir, [cur.repomd, ...cur.history]);
      if (!entry) continue;
      // sha1-only or md5-only: not verifiable, so uncovered
      if (!isStrong(entry.checksum)) return undefined;
      const expected = expectedOf(entry.checksum, entry.size);
      const reply = await this.#content.serve(this.#spec(path, expected), {
        contentType: contentTypeFor(path),
        cacheControl: isHashNamed(entry.location, entry.checksum.hex) ? IMMUTABLE : shortLived(this.#remote.metadataTtlMs),
      });
      if (entry.type === 'primary') this.#ingestWhenStored(reply, dir, entry);
      return reply;
    }
    return undefined;
  }

  /** A client may hold a repomd this proxy has not seen (fresh data dir): fetch it once. */
  async #repomdFor(dir: string): Promise<{ repomd: Repomd; history: Repomd[] } | undefined> {
    try {
      await this.repomds.fresh(dir);
      return await this.repomds.current(dir);
    } catch (err) {
      this.#log.debug('no verified repomd for data file', { dir, reason: (err as Error).message });
      return undefined;
    }
  }

  #entryFor(path: string, dir: string, generations: Repomd[]): RepomdData | undefined {
    for (const md of generations) {
      for (const d of md.data) {
        if (resolveHref(dir, d.location, d.xmlBase, this.upstream.bases) === path) return d;
      }
    }
    return undefined;
  }

  #ingestWhenStored(reply: Reply, dir: string, entry: RepomdData): void {
    const ingest = (sha256: string): void => { void this.#ingest(withOpenSize({ sha256, dir, location: entry.location }, entry.openSize)); };
    if (reply.body.kind === 'blob') ingest(reply.body.sha256);
    else if (reply.body.kind === 'bytes' && reply.body.sha256) ingest(reply.body.sha256);
    else if (reply.body.kind === 'growing') reply.body.done.then((blob) => ingest(blob.sha256), () => {});
  }

  /** Never rejects: a primary that cannot be read leaves its RPMs uncovered, and says so. */
  async #ingest(ref: PrimaryRef): Promise<boolean> {
    try {
      await this.packages.ingest(ref, true);
      return true;
    } catch (err) {
      this.#log.error('primary ingestion failed', { dir: ref.dir, primary: ref.location, code: isRepointError(err) ? err.code : undefined, reason: (err as Error).message });
      return false;
    }
  }

  /** An RPM (or other file) listed in an ingested primary; ingests the current primaries on a miss. */
  async #findPackage(path: string): Promise<Reply | undefined> {
    let expected = await this.packages.lookup(path);
    if (!expected) {
      let ran = false;
      for (const dir of ancestors(path)) if (await this.#ensureIngested(dir)) ran = true;
      if (ran) expected = await this.packages.lookup(path);
    }
    if (!expected) return undefined;
    return this.#content.serve(this.#spec(path, expected), { contentType: contentTypeFor(path), cacheControl: IMMUTABLE });
  }

  /**
   * Makes sure the current primary of repository dir is ingested, fetching it if no client did
   * (dnf using zchunk, or an evicted blob). True when an ingestion ran.
   */
  async #ensureIngested(dir: string): Promise<boolean> {
    const cur = await this.repomds.current(dir);
    const primary = cur?.repomd.data.find((d) => d.type === 'primary');
    if (!primary || !isStrong(primary.checksum)) return false;
    const expected = expectedOf(primary.checksum, primary.size);
    // Already listed? (by name when repomd gives its sha256, so a collected primary is not fetched again)
    const sha = primary.checksum.algo === 'sha256' ? primary.checksum.hex.toLowerCase() : (await this.#content.findBlob(expected))?.sha256;
    if (sha && (await this.packages.isLive({ sha256: sha, dir, location: primary.location }))) return false;
    const path = resolveHref(dir, primary.location, primary.xmlBase, this.upstream.bases);
    if (path === undefined) return false;
    try {
      const blob = await this.#content.ensure(this.#spec(path, expected));
      return await this.#ingest(withOpenSize({ sha256: blob.sha256, dir, location: primary.location }, primary.openSize));
    } catch (err) {
      this.#log.warn('could not fetch primary for package lookups', { dir, primary: path, reason: (err as Error).message });
      return false;
    }
  }

  #spec(path: string, expected: Expected): FillSpec {
    return fillSpec(this.name, this.upstream, path, expected);
  }

  async #uncovered(path: string): Promise<Reply> {
    if (this.#remote.strict) {
      throw new RepointError('NOT_IN_INDEX', `${path} is not listed in any verified metadata of remote ${this.name} (strict mode)`);
    }
    this.#log.debug('uncovered path', { path });
    return this.#content.passthrough(this.upstream, path, { contentType: contentTypeFor(path), cacheControl: 'no-store' });
  }
}
