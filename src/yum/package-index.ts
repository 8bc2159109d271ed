import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import { isStrong, type Expected, type HashAlgo } from '../formats/digests.ts';
import { DEFAULT_LIMITS, indexCap, type InputLimits } from '../formats/limits.ts';
import type { Logger } from '../log.ts';
import { DigestIndex, type IndexScheme } from '../serve/digest-index.ts';
import { stateKeys } from '../state/keys.ts';
import type { StateStore } from '../state/state-store.ts';
import { decodeIndex } from '../streams/decoded-index.ts';
import { yieldingChunks } from '../streams/yield-budget.ts';
import { parsePrimaryBatches, type PrimaryPackage } from './formats/primary.ts';
import { compressionOfHref, resolveHref } from './formats/yum-paths.ts';
import type { PrimaryRef } from './manifest.ts';

/** What a package path must be, from a verified primary. */
export interface YumPackageRecord {
  size: number;
  algo: HashAlgo;
  hex: string;
}

/** A package of a verified primary, at its remote path. */
export interface PrimaryEntry {
  path: string;
  record: YumPackageRecord;
}

/** Primary generations kept per repository: clients may still hold an older repomd. */
const PER_DIR = 3;

/** The limits a primary is read under (config `limits:`). */
export type PrimaryLimits = Pick<InputLimits, 'indexMaxBytes' | 'indexLineMax'>;

/**
 * Packages of a verified primary blob, resolved to remote paths; weak or foreign entries are counted as
 * skipped. repomd vouches only for the compressed bytes: decompression stops at its open-size (or
 * limits.indexMaxBytes), text runs at limits.indexLineMax, and the parse yields between chunks.
 */
export async function* primaryEntryBatches(blobs: BlobStore, bases: readonly string[], ref: PrimaryRef, skipped?: { count: number }, limits: PrimaryLimits = DEFAULT_LIMITS): AsyncGenerator<PrimaryEntry[]> {
  const compression = compressionOfHref(ref.location);
  if (compression === undefined) throw new RepointError('METADATA_INVALID', `cannot read ${ref.location}: zchunk primaries are not ingested`);
  const { text, done } = decodeIndex(blobs.open(ref.sha256), compression, indexCap(ref.openSize, limits), ref.location);
  try {
    yield* resolved(parsePrimaryBatches(yieldingChunks(text), { maxToken: limits.indexLineMax }), bases, ref, skipped);
  } finally {
    text.destroy();
  }
  await done;
}

/** As primaryEntryBatches, one package at a time. */
export async function* primaryEntries(blobs: BlobStore, bases: readonly string[], ref: PrimaryRef, skipped?: { count: number }, limits: PrimaryLimits = DEFAULT_LIMITS): AsyncGenerator<PrimaryEntry> {
  for await (const batch of primaryEntryBatches(blobs, bases, ref, skipped, limits)) yield* batch;
}

async function* resolved(batches: AsyncIterable<PrimaryPackage[]>, bases: readonly string[], ref: PrimaryRef, skipped: { count: number } | undefined): AsyncGenerator<PrimaryEntry[]> {
  for await (const pkgs of batches) {
    const out: PrimaryEntry[] = [];
    for (const pkg of pkgs) {
      const path = resolveHref(ref.dir, pkg.location, pkg.xmlBase, bases);
      // another host's file, or only a weak checksum: cannot be served as verified
      if (path === undefined || !isStrong(pkg.checksum)) {
        if (skipped) skipped.count++;
        continue;
      }
      out.push({ path, record: { size: pkg.size, algo: pkg.checksum.algo, hex: pkg.checksum.hex } });
    }
    if (out.length > 0) yield out;
  }
}

function isRecord(v: unknown): v is YumPackageRecord {
  return typeof v === 'object' && v !== null && typeof (v as YumPackageRecord).size === 'number' && typeof (v as YumPackageRecord).hex === 'string';
}

function primaryScheme(remote: string, bases: readonly string[], blobs: BlobStore, limits: PrimaryLimits): IndexScheme<PrimaryRef> {
  return {
    liveKey: stateKeys.yumLivePrimaries(remote),
    readingKey: stateKeys.yumReadingPrimaries(remote),
    perSlot: PER_DIR,
    idOf: (r) => `${r.sha256}:${r.dir}`,
    sameSlot: (a, b) => a.dir === b.dir,
    // With xml:base a primary may list files outside its own repository directory: every primary is asked.
    recordKey: (r, path) => stateKeys.yumIndexRecord(r.sha256, path),
    doneKey: (r) => stateKeys.yumIndexDone(r.sha256, r.dir),
    async *entries(r) {
      for await (const batch of primaryEntryBatches(blobs, bases, r, undefined, limits)) yield batch.map(({ path, record }) => ({ path, key: stateKeys.yumIndexRecord(r.sha256, path), value: record }));
    },
    decode: (v) => (isRecord(v) ? { size: v.size, digests: [{ algo: v.algo, hex: v.hex }] } : undefined),
  };
}

/**
 * RPM digests of one yum remote, keyed by the primary blob they come from. The newest live primary
 * listing a path wins, so an RPM republished under the same name verifies against the new primary.
 */
export class PackageIndex {
  readonly #index: DigestIndex<PrimaryRef>;

  constructor(remote: string, bases: readonly string[], state: StateStore, blobs: BlobStore, log: Logger, limits: PrimaryLimits = DEFAULT_LIMITS) {
    this.#index = new DigestIndex(primaryScheme(remote, bases, blobs, limits), state, log);
  }

  /** Digests a package path must have: by the live primaries, or by exactly `primaries` (a checkpoint). */
  lookup(path: string, primaries?: readonly PrimaryRef[]): Promise<Expected | undefined> {
    return this.#index.lookup(path, primaries);
  }

  /** Reads a verified primary once and, when live, lists it first for live lookups. */
  ingest(ref: PrimaryRef, live: boolean): Promise<void> {
    return this.#index.ingest(ref, live);
  }

  isLive(ref: PrimaryRef): Promise<boolean> {
    return this.#index.isLive(ref);
  }
}
