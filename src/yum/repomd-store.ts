import type { RemoteConfig } from '../config/types.ts';
import { RepointError } from '../errors.ts';
import { DEFAULT_LIMITS } from '../formats/limits.ts';
import { joinRelPath } from '../formats/rel-path.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import type { MetadataFreshness } from '../serve/remote-handler.ts';
import { MetadataPointer, lastModifiedOf, type PointerRecord, type PointerType, type PointerView, type TypeFields } from '../serve/metadata-pointer.ts';
import { ParsedBlobCache } from '../serve/parsed-blob-cache.ts';
import { stateKeys } from '../state/keys.ts';
import { readCapped } from '../streams/read-capped.ts';
import type { Keyring } from '../trust/keyring.ts';
import { verifyDetached } from '../trust/verify.ts';
import { discard, type Upstream } from '../upstream/upstream.ts';
import { marksOf, rollbackReason, type RepomdMarks } from './formats/repomd-policy.ts';
import { parseRepomd, type Repomd } from './formats/repomd.ts';

/** The state pointer for one repository directory (the parent of repodata/). */
export interface RepomdRecord extends PointerRecord, RepomdMarks {
  /** The exact upstream repomd.xml served to clients (history holds earlier ones). */
  sha256: string;
  /** repomd.xml.asc as upstream published it with those bytes. */
  ascSha256?: string;
  /** True when the signature was checked against the remote's keyring. */
  verified: boolean;
}

export type RepomdView = PointerView<RepomdRecord>;

const MAX_ASC_BYTES = 1 << 20;

/**
 * Verified repomd.xml (with its .asc) per repository directory, on the shared MetadataPointer: this
 * class adds yum's signature check (required only with a keyring) and rollback marks.
 */
export class RepomdStore {
  readonly #pointer: MetadataPointer<RepomdRecord, string>;
  readonly #parsed: ParsedBlobCache<Repomd>;
  readonly #signed: boolean;

  constructor(remote: RemoteConfig, upstream: Upstream, content: ContentService, keyring: () => Promise<Keyring>, log: Logger, deadlineMs?: number, maxBytes = DEFAULT_LIMITS.metadataMaxBytes) {
    this.#signed = remote.keyrings.length > 0;
    this.#parsed = new ParsedBlobCache(content.blobs, parseRepomd, { maxBytes: 32 * 2 ** 20, maxBlobBytes: maxBytes });
    const type = repomdType(remote, upstream, content, keyring, this.#parsed, maxBytes);
    this.#pointer = new MetadataPointer(type, { state: content.state, blobs: content.blobs, upstream, log, ttlMs: remote.metadataTtlMs, signed: remote.keyrings.length > 0, ...(deadlineMs !== undefined ? { deadlineMs } : {}) });
  }

  /** Without a keyring the remote trusts upstream's repomd as is (config allows it for yum). */
  get signed(): boolean {
    return this.#signed;
  }

  /** Called (without waiting) after a changed repomd.xml has been verified and recorded. */
  onNewRepomd(listener: (dir: string) => void): void {
    this.#pointer.onChange((dir) => listener(dir));
  }

  /** Per repository directory served by this process: the newest data timestamp and the last good check. */
  async freshness(): Promise<MetadataFreshness[]> {
    return (await this.#pointer.seen()).map(({ slot, record }) => ({
      dist: slot === '' ? '.' : slot, checkedMs: record.fetchedAt,
      ...(record.maxTimestamp !== undefined ? { dateMs: record.maxTimestamp * 1000 } : {}),
    }));
  }

  /** The stored record, unless a keyring is now configured and the record was never checked. */
  record(dir: string): Promise<RepomdRecord | undefined> {
    return this.#pointer.record(dir);
  }

  /** The record, revalidated against upstream when older than metadataTtl (single flight per dir). */
  fresh(dir: string, opts: { force?: boolean } = {}): Promise<RepomdView> {
    return this.#pointer.fresh(dir, opts);
  }

  /** For serving: a record whose blobs are stored (see MetadataPointer.serveable). */
  serveable(dir: string, opts: { revalidate: boolean }): Promise<RepomdView> {
    return this.#pointer.serveable(dir, opts);
  }

  parsed(sha256: string): Promise<Repomd> {
    return this.#parsed.get(sha256);
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
    try {
      return { repomd: await this.parsed(rec.sha256), history };
    } catch {
      // Not in this store (collected, or a node whose store lacks what the shared pointer names):
      // fetch and verify it again rather than leave its files uncovered (unverified pass-through).
      try {
        return { repomd: await this.parsed((await this.serveable(dir, { revalidate: false })).record.sha256), history };
      } catch {
        return undefined;
      }
    }
  }
}

function repomdType(remote: RemoteConfig, upstream: Upstream, content: ContentService, keyring: () => Promise<Keyring>, parsed: ParsedBlobCache<Repomd>, maxBytes: number): PointerType<RepomdRecord, string> {
  const signed = remote.keyrings.length > 0;
  /**
   * repomd.xml.asc for these exact bytes. With a keyring it is required and must verify; without
   * one it is kept when upstream has it, so clients checking it themselves get the matching copy.
   */
  const signature = async (dir: string, raw: Buffer, signal: AbortSignal): Promise<Buffer | undefined> => {
    const path = joinRelPath(dir, 'repodata/repomd.xml.asc');
    const res = await upstream.fetch({ path, signal, verified: signed });
    if (res.status !== 200) {
      discard(res.body);
      if (!signed) return undefined;
      throw new RepointError('SIGNATURE_MISSING', `upstream has no ${path}; the remote has a keyring, so unsigned metadata is refused`);
    }
    const asc = await readCapped(res.body, MAX_ASC_BYTES, path);
    if (signed) await verifyDetached(raw, asc, await keyring(), { allowSha1: remote.allowSha1 });
    return asc;
  };
  return {
    key: (dir) => stateKeys.yumRepomd(remote.name, dir),
    // dnf sends Cache-Control: no-cache on repomd.xml; it is ignored on purpose, metadataTtl rules
    path: (dir) => joinRelPath(dir, 'repodata/repomd.xml'),
    maxBytes,
    blobsOf: (r) => [r.sha256, ...(r.ascSha256 ? [r.ascSha256] : [])],
    generationOf: (r) => r.sha256,
    usable: (r) => r.verified || !signed,
    async accept(dir, raw, res, prev, signal): Promise<TypeFields<RepomdRecord>> {
      const asc = await signature(dir, raw, signal);
      const text = raw.toString('utf8');
      const repomd = parseRepomd(text);
      const rollback = rollbackReason(repomd, prev);
      if (rollback) throw new RepointError('METADATA_ROLLBACK', `${joinRelPath(dir, 'repodata/repomd.xml')}: ${rollback}; refusing a rollback`);
      const mtime = lastModifiedOf(res);
      const [blob, ascBlob] = await Promise.all([
        content.storeBytes(raw, mtime),
        asc ? content.storeBytes(asc, mtime) : Promise.resolve(undefined),
      ]);
      parsed.set(blob.sha256, repomd, text.length);
      return { sha256: blob.sha256, verified: signed, ...marksOf(repomd), ...(ascBlob ? { ascSha256: ascBlob.sha256 } : {}) };
    },
  };
}
