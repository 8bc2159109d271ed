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
import { verifyClearsigned, verifyDetached } from '../trust/verify.ts';
import { discard, type Upstream, type UpstreamResponse } from '../upstream/upstream.ts';
import { parseRelease, type ReleaseFile } from './formats/release.ts';

export type ReleaseKind = 'inrelease' | 'release';

/** The state pointer for one suite directory: which verified blobs to serve, and when they were checked. */
export interface ReleaseRecord extends PointerRecord {
  kind: ReleaseKind;
  /** The exact upstream file served to clients (InRelease, or Release). */
  sha256: string;
  /** Release.gpg, for kind 'release'. */
  gpgSha256?: string;
  /** The verified Release text that indexes are checked against (history holds earlier ones). */
  textSha256: string;
  dateMs?: number;
}

export type ReleaseView = PointerView<ReleaseRecord>;

interface ReleaseSlot {
  kind: ReleaseKind;
  dir: string;
}


/**
 * Verified InRelease (or Release + Release.gpg) per suite directory, on the shared MetadataPointer:
 * this class adds apt's verification and policy (Valid-Until, no Date rollback) and the parsed view.
 */
export class ReleaseStore {
  readonly #pointer: MetadataPointer<ReleaseRecord, ReleaseSlot>;
  readonly #parsed: ParsedBlobCache<ReleaseFile>;

  constructor(remote: RemoteConfig, upstream: Upstream, content: ContentService, keyring: () => Promise<Keyring>, log: Logger, deadlineMs?: number, maxBytes = DEFAULT_LIMITS.metadataMaxBytes) {
    this.#parsed = new ParsedBlobCache(content.blobs, parseRelease, { maxBytes: 64 * 2 ** 20, maxBlobBytes: maxBytes });
    const type = releaseType(remote, upstream, content, keyring, this.#parsed, maxBytes);
    this.#pointer = new MetadataPointer(type, { state: content.state, blobs: content.blobs, upstream, log, ttlMs: remote.metadataTtlMs, signed: true, ...(deadlineMs !== undefined ? { deadlineMs } : {}) });
  }

  /**
   * Called synchronously, before the request that verified it is answered, after a changed Release has
   * been verified and recorded (so work it starts is tracked before the client's next request).
   */
  onNewRelease(listener: (dir: string, release: Promise<ReleaseFile>) => void): void {
    this.#pointer.onChange((slot, rec) => listener(slot.dir, this.#parsed.get(rec.textSha256)));
  }

  record(kind: ReleaseKind, dir: string): Promise<ReleaseRecord | undefined> {
    return this.#pointer.record({ kind, dir });
  }

  /** The record, revalidated against upstream when older than metadataTtl (single flight per suite). */
  fresh(kind: ReleaseKind, dir: string, opts: { force?: boolean } = {}): Promise<ReleaseView> {
    return this.#pointer.fresh({ kind, dir }, opts);
  }

  /** For serving: a record whose blobs are stored (see MetadataPointer.serveable). */
  serveable(kind: ReleaseKind, dir: string, opts: { revalidate: boolean }): Promise<ReleaseView> {
    return this.#pointer.serveable({ kind, dir }, opts);
  }

  /** Per suite directory served by this process: upstream Date, Valid-Until and the last good check. */
  async freshness(): Promise<MetadataFreshness[]> {
    const byDir = new Map<string, MetadataFreshness>();
    for (const { slot, record } of await this.#pointer.seen()) {
      const known = byDir.get(slot.dir);
      if (known && (known.dateMs ?? 0) >= (record.dateMs ?? 0)) continue; // InRelease and Release: the newer
      const validUntil = await this.#parsed.get(record.textSha256).then((r) => r.validUntil, () => undefined);
      byDir.set(slot.dir, {
        dist: slot.dir.replace(/^(?:.*\/)?dists\//, ''), checkedMs: record.fetchedAt,
        ...(record.dateMs !== undefined ? { dateMs: record.dateMs } : {}),
        ...(validUntil ? { validUntilMs: validUntil.getTime() } : {}),
      });
    }
    return [...byDir.values()];
  }

  parsed(textSha256: string): Promise<ReleaseFile> {
    return this.#parsed.get(textSha256);
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
      // Not in this store (collected, or a node whose store lacks what the shared pointer names):
      // fetch and verify it again rather than leave its files uncovered (unverified pass-through).
      try {
        const view = await this.serveable(rec === inr ? 'inrelease' : 'release', dir, { revalidate: false });
        return { release: await this.parsed(view.record.textSha256), history };
      } catch {
        return undefined;
      }
    }
  }
}

function releaseType(remote: RemoteConfig, upstream: Upstream, content: ContentService, keyring: () => Promise<Keyring>, parsed: ParsedBlobCache<ReleaseFile>, maxBytes: number): PointerType<ReleaseRecord, ReleaseSlot> {
  const verify = async (slot: ReleaseSlot, raw: Buffer, signal: AbortSignal): Promise<{ text: string; gpg?: Buffer }> => {
    const opts = { allowSha1: remote.allowSha1 };
    if (slot.kind === 'inrelease') return { text: (await verifyClearsigned(raw.toString('utf8'), await keyring(), opts)).text };
    const sigPath = joinRelPath(slot.dir, 'Release.gpg');
    const res = await upstream.fetch({ path: sigPath, signal, verified: true });
    if (res.status !== 200) {
      discard(res.body);
      throw new RepointError('SIGNATURE_MISSING', `upstream has no ${sigPath}; unsigned repositories are refused`);
    }
    const gpg = await readCapped(res.body, 1 << 20, sigPath);
    await verifyDetached(raw, gpg, await keyring(), opts);
    return { text: raw.toString('utf8'), gpg };
  };
  return {
    key: (s) => stateKeys.aptRelease(remote.name, s.kind, s.dir),
    path: (s) => joinRelPath(s.dir, s.kind === 'inrelease' ? 'InRelease' : 'Release'),
    maxBytes,
    blobsOf: (r) => [r.sha256, r.textSha256, ...(r.gpgSha256 ? [r.gpgSha256] : [])],
    generationOf: (r) => r.textSha256,
    async accept(slot, raw, res: UpstreamResponse, prev, signal): Promise<TypeFields<ReleaseRecord>> {
      const path = joinRelPath(slot.dir, slot.kind === 'inrelease' ? 'InRelease' : 'Release');
      const { text, gpg } = await verify(slot, raw, signal);
      const release = parseRelease(text);
      checkPolicy(release, prev, path);
      const mtime = lastModifiedOf(res);
      const [blob, textBlob, gpgBlob] = await Promise.all([
        content.storeBytes(raw, mtime),
        content.storeBytes(Buffer.from(text)),
        gpg ? content.storeBytes(gpg, mtime) : Promise.resolve(undefined),
      ]);
      parsed.set(textBlob.sha256, release, text.length);
      return {
        kind: slot.kind, sha256: blob.sha256, textSha256: textBlob.sha256,
        ...(gpgBlob ? { gpgSha256: gpgBlob.sha256 } : {}),
        ...(release.date ? { dateMs: release.date.getTime() } : {}),
      };
    },
  };
}

function checkPolicy(release: ReleaseFile, rec: ReleaseRecord | undefined, path: string): void {
  if (release.validUntil && release.validUntil.getTime() < Date.now()) {
    throw new RepointError('METADATA_EXPIRED', `${path} expired at ${release.validUntil.toISOString()} (Valid-Until)`);
  }
  if (rec?.dateMs !== undefined && release.date && release.date.getTime() < rec.dateMs) {
    throw new RepointError('METADATA_ROLLBACK', `${path} is dated ${release.date.toISOString()}, older than the verified one from ${new Date(rec.dateMs).toISOString()}; refusing a rollback`);
  }
}
