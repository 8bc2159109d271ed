import { LRUCache } from 'lru-cache';
import type { RemoteConfig } from '../config/types.ts';
import { RepointError, isRepointError } from '../errors.ts';
import { readCapped } from '../streams/read-capped.ts';
import { SingleFlight } from '../fill/single-flight.ts';
import { parseRelease, type ReleaseFile } from './formats/release.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import type { Logger } from '../log.ts';
import type { Keyring } from '../trust/keyring.ts';
import { verifyClearsigned, verifyDetached } from '../trust/verify.ts';
import { discard, type Upstream } from '../upstream/upstream.ts';
import type { ContentService } from '../serve/content.ts';

export type ReleaseKind = 'inrelease' | 'release';

/** The state pointer for one suite directory: which verified blobs to serve, and when they were checked. */
export interface ReleaseRecord {
  kind: ReleaseKind;
  /** The exact upstream file served to clients (InRelease, or Release). */
  sha256: string;
  /** Release.gpg, for kind 'release'. */
  gpgSha256?: string;
  /** The verified Release text that indexes are checked against. */
  textSha256: string;
  fetchedAt: number;
  lastModified?: string;
  etag?: string;
  dateMs?: number;
  /** Earlier verified texts, newest first: by-hash requests from clients holding one still verify. */
  history: string[];
}

export interface ReleaseView {
  record: ReleaseRecord;
  /** Why the record was not refreshed although due (upstream down, a refused update). */
  stale?: string;
}

const MAX_RELEASE_BYTES = 64 * 2 ** 20;
const HISTORY = 4;

export class ReleaseStore {
  #remote: RemoteConfig;
  #upstream: Upstream;
  #content: ContentService;
  #keyring: () => Promise<Keyring>;
  #log: Logger;
  #inflight = new SingleFlight<ReleaseView>();
  #parsed = new LRUCache<string, ReleaseFile>({ max: 64 });
  #listeners: Array<(dir: string, release: ReleaseFile) => void> = [];

  constructor(remote: RemoteConfig, upstream: Upstream, content: ContentService, keyring: () => Promise<Keyring>, log: Logger) {
    this.#remote = remote;
    this.#upstream = upstream;
    this.#content = content;
    this.#keyring = keyring;
    this.#log = log;
  }

  /** Called (without waiting) after a changed Release has been verified and recorded. */
  onNewRelease(listener: (dir: string, release: ReleaseFile) => void): void {
    this.#listeners.push(listener);
  }

  key(kind: ReleaseKind, dir: string): string {
    return `apt:release:${this.#remote.name}:${kind}:${dir}`;
  }

  async record(kind: ReleaseKind, dir: string): Promise<ReleaseRecord | undefined> {
    return this.#content.state.get<ReleaseRecord>(this.key(kind, dir));
  }

  /** The record, revalidated against upstream when older than metadataTtl (single flight per suite). */
  async fresh(kind: ReleaseKind, dir: string, opts: { force?: boolean } = {}): Promise<ReleaseView> {
    const rec = await this.record(kind, dir);
    if (rec && !opts.force && Date.now() - rec.fetchedAt < this.#remote.metadataTtlMs) return { record: rec };
    return this.#inflight.run(this.key(kind, dir), () => this.#refresh(kind, dir, rec));
  }

  async parsed(textSha256: string): Promise<ReleaseFile> {
    const hit = this.#parsed.get(textSha256);
    if (hit) return hit;
    const text = (await this.#content.blobs.readAll(textSha256)).toString('utf8');
    const rel = parseRelease(text);
    this.#parsed.set(textSha256, rel);
    return rel;
  }

  /** The verified Release (newest of InRelease/Release) covering dir, plus its recent predecessors. */
  async current(dir: string): Promise<{ release: ReleaseFile; history: ReleaseFile[] } | undefined> {
    const [inr, rel] = await Promise.all([this.record('inrelease', dir), this.record('release', dir)]);
    const rec = !inr ? rel : !rel ? inr : (rel.dateMs ?? 0) > (inr.dateMs ?? 0) ? rel : inr;
    if (!rec) return undefined;
    const history: ReleaseFile[] = [];
    for (const sha of rec.history) {
      try {
        history.push(await this.parsed(sha));
      } catch {
        // a collected blob: by-hash for that generation falls back to pass-through
      }
    }
    try {
      return { release: await this.parsed(rec.textSha256), history };
    } catch {
      return undefined; // its text was collected: not covered until the next InRelease request refreshes it
    }
  }

  async #refresh(kind: ReleaseKind, dir: string, rec: ReleaseRecord | undefined): Promise<ReleaseView> {
    const name = kind === 'inrelease' ? 'InRelease' : 'Release';
    const path = joinRelPath(dir, name);
    const staleOr = (err: unknown): ReleaseView => {
      if (!rec || !isRepointError(err) || err.code === 'UPSTREAM_NOT_FOUND') throw err;
      this.#log.warn('serving last verified metadata', { path, code: err.code, reason: err.message });
      return { record: rec, stale: err.code };
    };
    try {
      // Conditional only when what the record names is still stored (gc may have removed it).
      const intact = rec && (await this.#content.blobs.stat(rec.sha256)) && (await this.#content.blobs.stat(rec.textSha256));
      const headers: Record<string, string> = {};
      if (intact && rec.lastModified) headers['if-modified-since'] = rec.lastModified;
      if (intact && rec.etag) headers['if-none-match'] = rec.etag;
      const res = await this.#upstream.fetch({ path, headers });
      if (res.status === 304 && rec) {
        const next = { ...rec, fetchedAt: Date.now() };
        await this.#content.state.set(this.key(kind, dir), next);
        return { record: next };
      }
      if (res.status !== 200) {
        discard(res.body);
        throw new RepointError('UPSTREAM_NOT_FOUND', `upstream has no ${path} (status ${res.status})`, { status: res.status });
      }
      const raw = await readCapped(res.body, MAX_RELEASE_BYTES, path);
      const { text, gpg } = await this.#verify(kind, dir, raw);
      const release = parseRelease(text);
      this.#checkPolicy(release, rec, path);
      const lm = res.headers['last-modified'];
      const mtime = lm && !Number.isNaN(Date.parse(lm)) ? new Date(lm) : undefined;
      const [blob, textBlob, gpgBlob] = await Promise.all([
        this.#content.storeBytes(raw, mtime),
        this.#content.storeBytes(Buffer.from(text)),
        gpg ? this.#content.storeBytes(gpg, mtime) : Promise.resolve(undefined),
      ]);
      this.#parsed.set(textBlob.sha256, release);
      const history = rec && rec.textSha256 !== textBlob.sha256 ? [rec.textSha256, ...rec.history].slice(0, HISTORY) : (rec?.history ?? []);
      const next: ReleaseRecord = {
        kind, sha256: blob.sha256, textSha256: textBlob.sha256, fetchedAt: Date.now(), history,
        ...(gpgBlob ? { gpgSha256: gpgBlob.sha256 } : {}),
        ...(lm ? { lastModified: lm } : {}),
        ...(res.headers.etag ? { etag: res.headers.etag } : {}),
        ...(release.date ? { dateMs: release.date.getTime() } : {}),
      };
      await this.#content.state.set(this.key(kind, dir), next);
      if (!rec || rec.textSha256 !== next.textSha256) {
        this.#log.info('verified new release', { path, date: release.date?.toISOString(), files: release.files.size });
        for (const l of this.#listeners) l(dir, release);
      }
      return { record: next };
    } catch (err) {
      if (isRepointError(err) && /^(SIGNATURE|METADATA)_/.test(err.code)) this.#log.error('refused upstream metadata', { path, code: err.code, reason: err.message });
      return staleOr(err);
    }
  }

  async #verify(kind: ReleaseKind, dir: string, raw: Buffer): Promise<{ text: string; gpg?: Buffer }> {
    const keyring = await this.#keyring();
    const opts = { allowSha1: this.#remote.allowSha1 };
    if (kind === 'inrelease') return { text: (await verifyClearsigned(raw.toString('utf8'), keyring, opts)).text };
    const sigPath = joinRelPath(dir, 'Release.gpg');
    const res = await this.#upstream.fetch({ path: sigPath });
    if (res.status !== 200) {
      discard(res.body);
      throw new RepointError('SIGNATURE_MISSING', `upstream has no ${sigPath}; unsigned repositories are refused`);
    }
    const gpg = await readCapped(res.body, 1 << 20, sigPath);
    await verifyDetached(raw, gpg, keyring, opts);
    return { text: raw.toString('utf8'), gpg };
  }

  #checkPolicy(release: ReleaseFile, rec: ReleaseRecord | undefined, path: string): void {
    if (release.validUntil && release.validUntil.getTime() < Date.now()) {
      throw new RepointError('METADATA_EXPIRED', `${path} expired at ${release.validUntil.toISOString()} (Valid-Until)`);
    }
    if (rec?.dateMs !== undefined && release.date && release.date.getTime() < rec.dateMs) {
      throw new RepointError('METADATA_ROLLBACK', `${path} is dated ${release.date.toISOString()}, older than the verified one from ${new Date(rec.dateMs).toISOString()}; refusing a rollback`);
    }
  }
}
