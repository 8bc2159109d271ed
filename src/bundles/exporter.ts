import type { Writable } from 'node:stream';
import type { BlobInfo } from '../blobs/blob-store.ts';
import type { Catalogue } from '../checkpoints/catalogue.ts';
import type { CatalogueEntry } from '../checkpoints/manifest.ts';
import type { RemoteConfig } from '../config/types.ts';
import { RepointError } from '../errors.ts';
import type { ContentService } from '../serve/content.ts';
import type { Signer } from '../trust/signer.ts';
import type { Upstream } from '../upstream/upstream.ts';
import { VERSION } from '../version.ts';
import { fillSpec } from '../fill/fill.ts';
import { FORMAT, FORMAT_VERSION, serializeBundleManifest, type BundleManifest } from './bundle-manifest.ts';
import { planBundle } from './bundle-plan.ts';
import type { BundleSupport, PackageRef } from './bundle-support.ts';
import { writeBundle, type WriteProgress } from './bundle-writer.ts';

export interface ExportSelection {
  /** One checkpoint; default the newest. */
  checkpoint?: string;
  /** Every kept checkpoint (newer than `since`, when given). */
  all?: boolean;
  /** Incremental: leave out what this checkpoint already has, and name it as the base. */
  since?: string;
}

export interface ExportInput {
  remote: RemoteConfig;
  reader: BundleSupport;
  catalogue: Catalogue;
  content: ContentService;
  signer: Signer;
  select: ExportSelection;
  /** Fetches a package an on-demand checkpoint has not stored (verified); none for an offline remote. */
  complete?: (ref: PackageRef) => Promise<BlobInfo>;
  onPlan?: (p: { blobs: number; completed: number }) => void;
  /** The process does nothing else meanwhile (the CLI): file calls run synchronously. */
  syncIo?: boolean;
}

/** A signed bundle ready to be written: the manifest, its signature and the blob list. */
export interface PreparedBundle {
  manifest: BundleManifest;
  bytes: Buffer;
  signature: Buffer;
}

function notFound(remote: string, ts: string, list: readonly CatalogueEntry[]): RepointError {
  return new RepointError('CHECKPOINT_NOT_FOUND', `checkpoint ${remote}/${ts} is not kept here (kept: ${list.map((e) => e.ts).join(', ') || 'none'})`);
}

/** Completes an on-demand checkpoint: a package not stored yet is downloaded through the ordinary verified fill. */
export function completeFromUpstream(content: ContentService, remote: string, upstream: Upstream): (ref: PackageRef) => Promise<BlobInfo> {
  return (ref) => content.ensure(fillSpec(remote, upstream, ref.path, ref.expected));
}

/** The checkpoints a bundle carries (oldest first) and its base; `carried` is empty when nothing is newer than the base. */
export async function selectCheckpoints(catalogue: Catalogue, remote: string, sel: ExportSelection): Promise<{ carried: CatalogueEntry[]; base?: CatalogueEntry }> {
  const list = await catalogue.list(remote);
  if (list.length === 0) throw new RepointError('CHECKPOINT_NOT_FOUND', `remote ${remote} has no checkpoints to export; take one with "repoint checkpoint create ${remote}"`);
  const base = sel.since === undefined ? undefined : list.find((e) => e.ts === sel.since);
  if (sel.since !== undefined && !base) throw notFound(remote, sel.since, list);
  let carried: CatalogueEntry[];
  if (sel.all) carried = list.filter((e) => !base || e.ts > base.ts);
  else if (sel.checkpoint !== undefined) {
    const one = list.find((e) => e.ts === sel.checkpoint);
    if (!one) throw notFound(remote, sel.checkpoint, list);
    if (base && one.ts <= base.ts) throw new RepointError('BUNDLE_INVALID', `checkpoint ${one.ts} is not newer than --since ${base.ts}`);
    carried = [one];
  } else {
    const newest = list.at(-1)!;
    carried = base && newest.ts <= base.ts ? [] : [newest];
  }
  return { carried, ...(base ? { base } : {}) };
}

/** Plans and signs a bundle (nothing written yet). Throws CHECKPOINT_NOT_FOUND-like errors before any byte goes out. */
export async function prepareBundle(input: ExportInput, carried: readonly CatalogueEntry[], base: CatalogueEntry | undefined): Promise<PreparedBundle> {
  const { remote, signer } = input;
  const plan = await planBundle({
    remote: remote.name, reader: input.reader, catalogue: input.catalogue, content: input.content, upstreams: remote.upstreams,
    carried, ...(base ? { base } : {}), ...(input.complete ? { complete: input.complete } : {}),
    ...(input.onPlan ? { onProgress: input.onPlan } : {}), syncIo: input.syncIo ?? false,
  });
  const manifest: BundleManifest = {
    format: FORMAT,
    version: FORMAT_VERSION,
    createdAt: new Date().toISOString(),
    exporter: { fingerprint: signer.fingerprint, software: `repoint/${VERSION}` },
    remote: { name: remote.name, type: remote.type },
    checkpoints: plan.checkpoints,
    since: base ? { ts: base.ts, manifest: base.manifest, blobs: plan.fromBase } : null,
    blobs: plan.blobs,
    totals: { count: plan.blobs.length, bytes: plan.blobs.reduce((n, b) => n + b.size, 0) },
  };
  const bytes = serializeBundleManifest(manifest);
  const signature = Buffer.from(await signer.detachSignArmored(bytes));
  return { manifest, bytes, signature };
}

/** Streams a prepared bundle as tar to `out`. */
export function writePrepared(out: Writable, prepared: PreparedBundle, content: ContentService, onProgress?: (p: WriteProgress) => void, opts: { syncIo?: boolean } = {}): Promise<void> {
  return writeBundle(out, {
    manifest: prepared.bytes, signature: prepared.signature, blobs: prepared.manifest.blobs, store: content.blobs, syncIo: opts.syncIo ?? false,
    mtime: new Date(prepared.manifest.createdAt), ...(onProgress ? { onProgress } : {}),
  });
}
