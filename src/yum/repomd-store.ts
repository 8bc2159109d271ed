import { LRUCache } from 'lru-cache';
import type { RemoteConfig } from '../config/types.ts';
import { RepointError, isRepointError } from '../errors.ts';
import { readCapped } from '../streams/read-capped.ts';
import { SingleFlight } from '../fill/single-flight.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import { parseRepomd, type Repomd } from './formats/repomd.ts';
import type { Logger } from '../log.ts';
import type { Keyring } from '../trust/keyring.ts';
import { verifyDetached } from '../trust/verify.ts';
import type { Upstream } from '../upstream/upstream.ts';
import type { ContentService } from '../serve/content.ts';
import { marksOf, rollbackReason, type RepomdMarks } from './formats/repomd-policy.ts';

/** The state pointer for one repository directory (the parent of repodata/). */
export interface RepomdRecord extends RepomdMarks {
  /** The exact upstream repomd.xml served to clients. */
  sha256: string;
  /** repomd.xml.asc as upstream published it with those bytes. */
  ascSha256?: string;
  /** True when the signature was checked against the remote's keyring. */
  verified: boolean;
  fetchedAt: number;
  lastModified?: string;
  etag?: string;
  /** Earlier repomd blobs, newest first: clients still holding one can fetch its data files. */
  history: string[];
}

export interface RepomdView {
  record: RepomdRecord;
  /** Why the record was not refreshed although due (upstream down, a refused update). */
  stale?: string;
}

const MAX_REPOMD_BYTES = 16 * 2 ** 20;
const MAX_ASC_BYTES = 1 << 20;
const HISTORY = 4;

export class RepomdStore {
  #remote: RemoteConfig;
  #upstream: Upstream;
  #content: ContentService;
  #keyring: () => Promise<Keyring>;
  #log: Logger;
  #inflight = new SingleFlight<RepomdView>();
  #listeners: Array<(dir: string) => void> = [];
  #parsed = new LRUCache<string, Repomd>({ max: 64 });

  constructor(remote: RemoteConfig, upstream: Upstream, content: ContentService, keyring: () => Promise<Keyring>, log: Logger) {
    this.#remote = remote;
    this.#upstream = upstream;
    this.#content = content;
    this.#keyring = keyring;
    this.#log = log;
  }

  /** Without a keyring the remote trusts upstream's repomd as is (config allows it for yum). */
  get signed(): boolean {
    return this.#remote.keyrings.length > 0;
  }

  /** Called (without waiting) after a changed repomd.xml has been verified and recorded. */
  onNewRepomd(listener: (dir: string) => void): void {
    this.#listeners.push(listener);
  }

  key(dir: string): string {
    return `yum:repomd:${this.#remote.name}:${dir}`;
  }

  /** The stored record, unless a keyring is now configured and the record was never checked. */
  async record(dir: string): Promise<RepomdRecord | undefined> {
    const rec = await this.#content.state.get<RepomdRecord>(this.key(dir));
    return rec && (rec.verified || !this.signed) ? rec : undefined;
  }

  /** The record, revalidated against upstream when older than metadataTtl (single flight per dir). */
  async fresh(dir: string, opts: { force?: boolean } = {}): Promise<RepomdView> {
    const rec = await this.record(dir);
    if (rec && !opts.force && Date.now() - rec.fetchedAt < this.#remote.metadataTtlMs) return { record: rec };
    return this.#inflight.run(this.key(dir), () => this.#refresh(dir, rec));
  }

  async parsed(sha256: string): Promise<Repomd> {
    const hit = this.#parsed.get(sha256);
    if (hit) return hit;
    const md = parseRepomd((await this.#content.blobs.readAll(sha256)).toString('utf8'));
    this.#parsed.set(sha256, md);
    return md;
  }

  /** The verified repomd of dir plus its recent predecessors (collected blobs are skipped). */
  async current(dir: string): Promise<{ repomd: Repomd; history: Repomd[] } | undefined> {
    const rec = await this.record(dir);
    if (!rec) return undefined;
    const history: Repomd[] = [];
    for (const sha of rec.history) {
      try {
        history.push(await this.parsed(sha));
      } catch {
        // a collected blob: data files of that generation fall back to pass-through
      }
    }
    return { repomd: await this.parsed(rec.sha256), history };
  }

  async #refresh(dir: string, rec: RepomdRecord | undefined): Promise<RepomdView> {
    const path = joinRelPath(dir, 'repodata/repomd.xml');
    try {
      // dnf sends Cache-Control: no-cache on repomd.xml; it is ignored on purpose, metadataTtl rules
      const headers: Record<string, string> = {};
      if (rec?.lastModified) headers['if-modified-since'] = rec.lastModified;
      if (rec?.etag) headers['if-none-match'] = rec.etag;
      const res = await this.#upstream.fetch({ path, headers });
      if (res.status === 304 && rec) {
        const next = { ...rec, fetchedAt: Date.now() };
        await this.#content.state.set(this.key(dir), next);
        return { record: next };
      }
      if (res.status !== 200) {
        res.body.resume();
        throw new RepointError('UPSTREAM_NOT_FOUND', `upstream has no ${path} (status ${res.status})`, { status: res.status });
      }
      const raw = await readCapped(res.body, MAX_REPOMD_BYTES, path);
      const asc = await this.#signature(dir, raw);
      const repomd = parseRepomd(raw.toString('utf8'));
      const rollback = rollbackReason(repomd, rec);
      if (rollback) throw new RepointError('METADATA_ROLLBACK', `${path}: ${rollback}; refusing a rollback`);
      const lm = res.headers['last-modified'];
      const mtime = lm && !Number.isNaN(Date.parse(lm)) ? new Date(lm) : undefined;
      const [blob, ascBlob] = await Promise.all([
        this.#content.storeBytes(raw, mtime),
        asc ? this.#content.storeBytes(asc, mtime) : Promise.resolve(undefined),
      ]);
      this.#parsed.set(blob.sha256, repomd);
      const history = rec && rec.sha256 !== blob.sha256 ? [rec.sha256, ...rec.history].slice(0, HISTORY) : (rec?.history ?? []);
      const next: RepomdRecord = {
        sha256: blob.sha256, verified: this.signed, fetchedAt: Date.now(), history, ...marksOf(repomd),
        ...(ascBlob ? { ascSha256: ascBlob.sha256 } : {}),
        ...(lm ? { lastModified: lm } : {}),
        ...(res.headers.etag ? { etag: res.headers.etag } : {}),
      };
      await this.#content.state.set(this.key(dir), next);
      if (!rec || rec.sha256 !== next.sha256) {
        this.#log.info('verified new repomd', { path, revision: repomd.revision, data: repomd.data.length });
        for (const l of this.#listeners) l(dir);
      }
      return { record: next };
    } catch (err) {
      if (isRepointError(err) && /^(SIGNATURE|METADATA)_/.test(err.code)) this.#log.error('refused upstream metadata', { path, code: err.code, reason: err.message });
      if (!rec || !isRepointError(err) || err.code === 'UPSTREAM_NOT_FOUND') throw err;
      this.#log.warn('serving last verified metadata', { path, code: err.code, reason: err.message });
      return { record: rec, stale: err.code };
    }
  }

  /**
   * repomd.xml.asc for these exact bytes. With a keyring it is required and must verify; without
   * one it is kept when upstream has it, so clients checking it themselves get the matching copy.
   */
  async #signature(dir: string, raw: Buffer): Promise<Buffer | undefined> {
    const path = joinRelPath(dir, 'repodata/repomd.xml.asc');
    const res = await this.#upstream.fetch({ path });
    if (res.status !== 200) {
      res.body.resume();
      if (!this.signed) return undefined;
      throw new RepointError('SIGNATURE_MISSING', `upstream has no ${path}; the remote has a keyring, so unsigned metadata is refused`);
    }
    const asc = await readCapped(res.body, MAX_ASC_BYTES, path);
    if (this.signed) await verifyDetached(raw, asc, await this.#keyring(), { allowSha1: this.#remote.allowSha1 });
    return asc;
  }
}
