import type { BlobInfo } from '../blobs/blob-store.ts';
import type { Catalogue } from '../checkpoints/catalogue.ts';
import { forEachWindow } from '../checkpoints/limit.ts';
import type { CatalogueEntry, CheckpointManifest } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';
import { sha256Of, type Expected } from '../formats/digests.ts';
import type { ContentService } from '../serve/content.ts';
import { stateKeys } from '../state/keys.ts';
import type { BlobRef, BundleCheckpoint } from './bundle-manifest.ts';
import type { BundleSupport, PackageRef } from './bundle-support.ts';
import { altDigestsOf, hasAlt, type AltDigests } from './alt-digests.ts';

export interface PlanInput {
  remote: string;
  reader: BundleSupport;
  catalogue: Catalogue;
  content: ContentService;
  upstreams: readonly string[];
  /** Oldest first. */
  carried: readonly CatalogueEntry[];
  base?: CatalogueEntry;
  /** Downloads and verifies a package the store lacks (on-demand checkpoints); without it a missing package fails the export. */
  complete?: (ref: PackageRef) => Promise<BlobInfo>;
  onProgress?: (p: { blobs: number; completed: number }) => void;
  /** The process does nothing else meanwhile (the CLI): stats run synchronously. */
  syncIo?: boolean;
}

export interface BundlePlan {
  checkpoints: BundleCheckpoint[];
  /** In tar order: checkpoint manifests, then metadata, then packages. */
  blobs: BlobRef[];
  /** What the carried checkpoints need from the base (not carried). */
  fromBase: BlobRef[];
  /** Packages downloaded from upstream to complete the bundle. */
  completed: number;
}

const PARALLEL = 16;

function incomplete(message: string): RepointError {
  return new RepointError('BUNDLE_INCOMPLETE', message);
}

/**
 * The address of a package: its listed sha256, or the blob an entry listed by another strong digest
 * alone was stored as (its alias, as a verified download or an import records it). Never reads the
 * blob (ContentService.findBlob would pull small ones into the hot cache).
 */
export async function addressOf(content: ContentService, expected: Expected): Promise<string | undefined> {
  const sha256 = sha256Of(expected);
  if (sha256 !== undefined) return sha256;
  for (const [algo, hex] of Object.entries(altDigestsOf(expected))) {
    const alias = await content.state.get<string>(stateKeys.alias(algo, hex));
    if (alias) return alias;
  }
  return undefined;
}

/**
 * Works out what a bundle carries: every blob the carried checkpoints need (manifest, stored metadata,
 * every package their indexes list), minus what the base checkpoint already has. Streams the
 * indexes; holds only the blob list (which the bundle manifest is made of).
 */
export async function planBundle(input: PlanInput): Promise<BundlePlan> {
  const { content, reader } = input;
  const deps = { blobs: content.blobs, state: content.state, upstreams: input.upstreams, syncDecode: input.syncIo ?? false };
  const bulk = content.blobs.bulk?.({ sync: input.syncIo ?? false });
  const sizeOf = async (sha256: string): Promise<number | undefined> => (bulk ? bulk.size(sha256) : (await content.blobs.stat(sha256))?.size);
  const base = input.base ? await baseBlobs(input, input.base) : new Set<string>();
  const manifests: BlobRef[] = [];
  const metadata: BlobRef[] = [];
  const packages: Array<BlobRef | undefined> = [];
  const fromBase = new Map<string, BlobRef>();
  const taken = new Set<string>();
  let completed = 0;
  const progress = (): void => input.onProgress?.({ blobs: taken.size, completed });
  const stored = async (sha256: string, what: string): Promise<{ size: number }> => {
    const size = await sizeOf(sha256);
    if (size === undefined) throw incomplete(`${what} (blob ${sha256}) is missing from the store; run "repoint verify" and take a new checkpoint`);
    return { size };
  };
  const take = async (list: BlobRef[], sha256: string, what: string): Promise<void> => {
    if (taken.has(sha256)) return;
    taken.add(sha256);
    const info = await stored(sha256, what);
    if (base.has(sha256)) fromBase.set(sha256, { sha256, size: info.size });
    else list.push({ sha256, size: info.size });
  };

  /** The stored sizes of a batch's packages (by sha256), looked up at once: off this thread where the store can. */
  const storedSizes = async (batch: readonly PackageRef[]): Promise<Map<string, number | undefined>> => {
    const shas = batch.map((r) => sha256Of(r.expected)).filter((s): s is string => s !== undefined && !taken.has(s) && !base.has(s));
    const sizes: Array<number | undefined> = bulk ? await bulk.sizes(shas) : [];
    if (!bulk) await forEachWindow(shas, PARALLEL, async (s, k) => { sizes[k] = await sizeOf(s); });
    return new Map(shas.map((s, k) => [s, sizes[k]]));
  };

  /**
   * Every other strong digest an index lists a blob by alone, wherever that blob ends up (carried or
   * from the base, listed there or by another index): the importer records each as an alias.
   */
  const alts = new Map<string, AltDigests>();
  const noteAlt = (sha256: string, alt: AltDigests): void => {
    if (hasAlt(alt)) alts.set(sha256, { ...alts.get(sha256), ...alt });
  };

  /** Lists package `ref` at position i (index order), completing it from upstream when the store lacks it. */
  const place = async (ref: PackageRef, i: number, where: string, known: Map<string, number | undefined>): Promise<void> => {
    const sha256 = await addressOf(content, ref.expected);
    const alt = altDigestsOf(ref.expected);
    if (sha256 !== undefined) noteAlt(sha256, alt);
    if (sha256 !== undefined && taken.has(sha256)) return;
    if (sha256 !== undefined) taken.add(sha256);
    if (sha256 !== undefined && base.has(sha256)) {
      fromBase.set(sha256, { sha256, size: ref.expected.size ?? (await stored(sha256, ref.path)).size });
      return;
    }
    const size = sha256 === undefined ? undefined : known.has(sha256) ? known.get(sha256) : await sizeOf(sha256);
    let info: { sha256: string; size: number } | undefined = sha256 !== undefined && size !== undefined ? { sha256, size } : undefined;
    if (!info) {
      if (!input.complete) throw incomplete(`${where}: ${ref.path} is not stored and remote ${input.remote} has no upstream to fetch it from`);
      info = await input.complete(ref);
      completed++;
      noteAlt(info.sha256, alt);
      if (taken.has(info.sha256) && info.sha256 !== sha256) return; // an entry without sha256 that turned out to be a blob already listed
      taken.add(info.sha256);
    }
    packages[i] = { sha256: info.sha256, size: info.size };
  };

  const checkpoints: BundleCheckpoint[] = [];
  const seen = new Set<string>();
  let next = 0; // position in `packages`, across all carried checkpoints
  for (const entry of input.carried) {
    const where = `checkpoint ${input.remote}/${entry.ts}`;
    await take(manifests, entry.manifest, `${where}: its manifest`);
    const m = await input.catalogue.manifest(entry.manifest);
    for (const sha of reader.storedMetadataBlobs(m)) await take(metadata, sha, `${where}: a metadata file`);
    checkpoints.push({ ts: entry.ts, createdAt: entry.createdAt, manifest: entry.manifest, files: entry.files, bytes: entry.bytes });
    // A batch is placed while the next one is parsed; its sizes were looked up meanwhile. One at a time,
    // in order, so a package listed twice is placed where it is first listed.
    let placing: Promise<void> = Promise.resolve();
    try {
      for await (const batch of reader.packageRefs(m, deps, seen)) {
        const first = next;
        next += batch.length;
        const sizes = storedSizes(batch);
        sizes.catch(() => {}); // awaited through `placing`
        await placing;
        placing = sizes.then((known) => forEachWindow(batch, PARALLEL, (ref, k) => place(ref, first + k, where, known))).then(progress);
        placing.catch(() => {}); // awaited at the next batch or below
      }
    } catch (err) {
      await placing.catch(() => {}); // no download for a failed export goes on after it returns
      throw err;
    }
    await placing;
    await checkIndexesRead(reader, m, deps, where);
  }
  const withAlt = (b: BlobRef): BlobRef => (alts.has(b.sha256) ? { ...b, ...alts.get(b.sha256) } : b);
  const blobs = [...manifests, ...metadata, ...packages.filter((b): b is BlobRef => b !== undefined)].map(withAlt);
  return { checkpoints, blobs, fromBase: [...fromBase.values()].map(withAlt), completed };
}

/** Every blob the base checkpoint has: those need not be carried. Index blobs are read, packages only listed. */
async function baseBlobs(input: PlanInput, entry: CatalogueEntry): Promise<Set<string>> {
  const { content, reader } = input;
  const deps = { blobs: content.blobs, state: content.state, upstreams: input.upstreams, syncDecode: input.syncIo ?? false };
  const m: CheckpointManifest = await input.catalogue.manifest(entry.manifest);
  const have = new Set<string>([entry.manifest, ...reader.storedMetadataBlobs(m)]);
  for await (const batch of reader.packageRefs(m, deps, new Set())) {
    await forEachWindow(batch, PARALLEL, async (ref) => {
      const sha = await addressOf(content, ref.expected);
      if (sha !== undefined) have.add(sha);
    });
  }
  return have;
}

/** packageRefs skips index blobs missing from the store: for an export that would silently drop packages. */
async function checkIndexesRead(reader: BundleSupport, m: CheckpointManifest, deps: { blobs: ContentService['blobs'] }, where: string): Promise<void> {
  for (const sha of reader.storedMetadataBlobs(m)) {
    if (!(await deps.blobs.stat(sha))) throw incomplete(`${where}: metadata blob ${sha} vanished during the export (collected?); retry`);
  }
}
