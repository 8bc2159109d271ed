import { PassThrough } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import { decompressor } from '../streams/decompress.ts';
import { isStrong, type Expected, type HashAlgo } from '../formats/digests.ts';
import type { YumChecksum } from './formats/checksum.ts';
import { parsePrimaryBatches } from './formats/primary.ts';
import type { Logger } from '../log.ts';
import type { StateEntry, StateStore } from '../state/state-store.ts';
import { compressionOfHref, resolveHref } from './formats/yum-paths.ts';

/** What a package path must be, from a verified primary. */
export interface YumPackageRecord {
  size: number;
  algo: HashAlgo;
  hex: string;
}

/** A primary blob live lookups use, and the repository directory it describes. */
export interface LivePrimary {
  sha256: string;
  dir: string;
  location: string;
}

/** Primary generations kept per repository (clients may still hold an older repomd), and an overall guard. */
const PER_DIR = 3;
const LIVE_MAX = 4096;

/** The primary data entry being ingested, as the verified repomd lists it. */
export interface PrimaryRef {
  location: string;
  checksum: YumChecksum;
}

/**
 * RPM digests from verified primaries, recorded per primary blob (`yum:idx:<primary sha256>:<path>`):
 * immutable, shared by live lookups and checkpoints. Live lookups read the candidates of the remote's
 * recent primaries in one getMany. Survives restarts.
 */
export class PackageIndex {
  #remote: string;
  #bases: readonly string[];
  #state: StateStore;
  #blobs: BlobStore;
  #log: Logger;
  #pending = new Map<string, Promise<void>>();

  constructor(remote: string, bases: readonly string[], state: StateStore, blobs: BlobStore, log: Logger) {
    this.#remote = remote;
    this.#bases = bases;
    this.#state = state;
    this.#blobs = blobs;
    this.#log = log;
  }

  #doneKey(dir: string, primary: PrimaryRef): string {
    return `yum:ingested:${this.#remote}:${dir}:${primary.checksum.algo}:${primary.checksum.hex}`;
  }

  get #liveKey(): string {
    return `yum:live-primaries:${this.#remote}`;
  }

  /** Primaries the live remote verifies RPMs against, newest first. */
  async livePrimaries(): Promise<LivePrimary[]> {
    return (await this.#state.get<LivePrimary[]>(this.#liveKey)) ?? [];
  }

  /** Digests a package path must have, waiting for ingestions under way before answering "unknown". */
  async lookup(path: string): Promise<Expected | undefined> {
    const hit = await this.#lookupOnce(path);
    if (hit || this.#pending.size === 0) return hit;
    await Promise.allSettled(this.#pending.values());
    return this.#lookupOnce(path);
  }

  /**
   * The newest live primary that lists the path wins. All are asked (one getMany): with xml:base a
   * primary may list files outside its own repository directory.
   */
  async #lookupOnce(path: string): Promise<Expected | undefined> {
    const refs = await this.livePrimaries();
    if (refs.length === 0) return undefined;
    const rec = (await this.#state.getMany<YumPackageRecord>(refs.map((r) => `yum:idx:${r.sha256}:${path}`))).find((r) => r !== undefined);
    return rec ? { size: rec.size, digests: [{ algo: rec.algo, hex: rec.hex }] } : undefined;
  }

  async ingested(dir: string, primary: PrimaryRef): Promise<boolean> {
    return (await this.#state.get<boolean>(this.#doneKey(dir, primary))) === true;
  }

  /**
   * Ingests a verified primary blob of repository `dir` once and lists it first for live lookups, so a
   * newer primary's records win (an RPM republished under the same name verifies against the new one).
   * Never rejects.
   */
  ingest(dir: string, primary: PrimaryRef, blobSha256: string): Promise<void> {
    const doneKey = this.#doneKey(dir, primary);
    const running = this.#pending.get(doneKey);
    if (running) return running;
    const p = (async () => {
      if (await this.#state.get<boolean>(doneKey)) return;
      const started = Date.now();
      await this.ingestFrozen(dir, primary.location, blobSha256);
      await this.#addLive({ sha256: blobSha256, dir, location: primary.location });
      await this.#state.set(doneKey, true);
      this.#log.info('indexed packages', { dir, primary: primary.location, ms: Date.now() - started });
    })().catch((err: Error) => this.#log.error('primary ingestion failed', { dir, primary: primary.location, reason: err.message }))
      .finally(() => this.#pending.delete(doneKey));
    this.#pending.set(doneKey, p);
    return p;
  }

  async #addLive(ref: LivePrimary): Promise<void> {
    let generations = 1;
    const next = [ref, ...(await this.livePrimaries()).filter((r) => {
      if (r.sha256 === ref.sha256 && r.dir === ref.dir) return false;
      return r.dir !== ref.dir || ++generations <= PER_DIR;
    })].slice(0, LIVE_MAX);
    await this.#state.set(this.#liveKey, next);
  }

  /** Packages of a verified primary blob, resolved to remote paths; weak or foreign entries are counted as skipped. */
  async *entries(dir: string, location: string, sha256: string, skipped?: { count: number }): AsyncGenerator<{ path: string; record: YumPackageRecord }> {
    const compression = compressionOfHref(location);
    if (compression === undefined) throw new RepointError('METADATA_INVALID', `cannot read ${location}: zchunk primaries are not ingested`);
    const text = new PassThrough({ highWaterMark: 1 << 20 });
    const piping = pipeline(this.#blobs.open(sha256), decompressor(compression), text);
    piping.catch(() => {}); // awaited below; a parse error ends the loop first
    for await (const pkgs of parsePrimaryBatches(text)) {
      for (const pkg of pkgs) {
        const path = resolveHref(dir, pkg.location, pkg.xmlBase, this.#bases);
        // another host's file, or only a weak checksum: cannot be served as verified
        if (path === undefined || !isStrong(pkg.checksum)) {
          if (skipped) skipped.count++;
          continue;
        }
        yield { path, record: { size: pkg.size, algo: pkg.checksum.algo, hex: pkg.checksum.hex } };
      }
    }
    await piping;
  }

  async #run(dir: string, location: string, sha256: string, keyOf: (path: string) => string): Promise<{ stored: number; skipped: number }> {
    const skipped = { count: 0 };
    let batch: StateEntry[] = [];
    let stored = 0;
    for await (const { path, record } of this.entries(dir, location, sha256, skipped)) {
      batch.push({ key: keyOf(path), value: record });
      stored++;
      if (batch.length >= 2000) {
        await this.#state.setMany(batch);
        batch = [];
      }
    }
    if (batch.length) await this.#state.setMany(batch);
    return { stored, skipped: skipped.count };
  }

  /**
   * For checkpoints: records keyed by the primary blob itself, so they never change, checkpoints
   * sharing a primary share them, and a checkpoint verifies RPMs against exactly its own primary.
   */
  async ingestFrozen(dir: string, location: string, primarySha256: string): Promise<void> {
    const done = `yum:idx-done:${primarySha256}:${dir}`;
    if (await this.#state.get<boolean>(done)) return;
    await this.#run(dir, location, primarySha256, (path) => `yum:idx:${primarySha256}:${path}`);
    await this.#state.set(done, true);
  }

  async lookupFrozen(path: string, primarySha256: string): Promise<Expected | undefined> {
    const rec = await this.#state.get<YumPackageRecord>(`yum:idx:${primarySha256}:${path}`);
    return rec ? { size: rec.size, digests: [{ algo: rec.algo, hex: rec.hex }] } : undefined;
  }
}
