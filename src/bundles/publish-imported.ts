import type { Catalogue } from '../checkpoints/catalogue.ts';
import type { CatalogueEntry, CheckpointManifest } from '../checkpoints/manifest.ts';
import type { RemoteConfig } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import type { Lease } from '../state/lease.ts';
import type { Signer } from '../trust/signer.ts';
import type { BundleManifest } from './bundle-manifest.ts';
import type { BundleSupport } from './bundle-support.ts';
import { carriedManifest } from './completeness.ts';

/** Where an adopted manifest came from: lets a later incremental check its base is this one. */
export interface ImportedFrom {
  /** The exporter's manifest blob of this checkpoint. */
  manifest: string;
  remote: string;
  exporter: string;
  at: string;
}

export interface PublishInput {
  bundle: BundleManifest;
  remote: RemoteConfig;
  reader: BundleSupport;
  content: ContentService;
  catalogue: Catalogue;
  signer: Signer;
  /** This node's base URL, for apt's Snapshots: field. */
  baseUrl: string;
  /** The remote's checkpoint lease, held by the caller since before the first blob was stored. */
  lease: Lease;
  log: Logger;
}

/** Whether an entry of this node is the exporter's checkpoint `manifest` (made here, or imported from it). */
export async function isSameCheckpoint(catalogue: Catalogue, entry: CatalogueEntry, manifest: string): Promise<boolean> {
  if (entry.manifest === manifest) return true;
  const m = await catalogue.manifest(entry.manifest);
  const from = m['imported'] as Partial<ImportedFrom> | undefined;
  return from?.manifest === manifest;
}

/**
 * Publishes the carried checkpoints this node does not have yet, each as this node's own: the type
 * re-signs its metadata with this node's key (adopt), a new manifest is written under the original
 * timestamp, and one catalogue write publishes them all. Checkpoints already here are left alone, and
 * an older one slots in behind the newest, so live never moves back. The caller holds the remote's
 * checkpoint lease (gc does not collect while it is held: the stored blobs are not pinned yet).
 */
export async function publishImported(input: PublishInput): Promise<{ published: CatalogueEntry[]; already: string[]; tooOld: string[] }> {
  const { remote, content, catalogue } = input;
  const have = new Set((await catalogue.list(remote.name)).map((e) => e.ts));
  const already = input.bundle.checkpoints.filter((c) => have.has(c.ts)).map((c) => c.ts);
  // imports are kept unless checkpoints.keep says otherwise; one that keep would drop at once is not published
  const keep = remote.checkpoints?.keep ?? Number.MAX_SAFE_INTEGER;
  const all = [...have, ...input.bundle.checkpoints.filter((c) => !have.has(c.ts)).map((c) => c.ts)].sort();
  const cut = new Set(all.slice(0, Math.max(0, all.length - keep)));
  const tooOld = input.bundle.checkpoints.filter((c) => !have.has(c.ts) && cut.has(c.ts)).map((c) => c.ts);
  const entries: CatalogueEntry[] = [];
  const at = new Date().toISOString();
  for (const c of input.bundle.checkpoints) {
    if (have.has(c.ts) || cut.has(c.ts)) continue;
    const original = await carriedManifest(content.blobs, input.bundle, c, input.reader);
    const fields = await input.reader.adopt(original, {
      content, signer: input.signer, log: input.log, remote: remote.name, upstreams: remote.upstreams,
      snapshotsUrl: `${input.baseUrl}/${remote.name}/@SNAPSHOTID@/`,
    });
    const imported: ImportedFrom = { manifest: c.manifest, remote: input.bundle.remote.name, exporter: input.bundle.exporter.fingerprint, at };
    const manifest: CheckpointManifest = {
      version: 1, remote: remote.name, type: remote.type, ts: c.ts, createdAt: c.createdAt, signer: input.signer.fingerprint,
      ...fields,
      ...(original.packages !== undefined ? { packages: original.packages } : {}),
      imported,
    };
    const blob = await content.storeBytes(Buffer.from(JSON.stringify(manifest)));
    entries.push({ ts: c.ts, manifest: blob.sha256, createdAt: c.createdAt, files: c.files, bytes: c.bytes });
  }
  if (entries.length > 0) {
    await input.lease.confirm(); // publishing is the irreversible step
    const dropped = await catalogue.publishMany(remote.name, entries, keep);
    input.log.info('imported checkpoints published', { remote: remote.name, ts: entries.map((e) => e.ts), dropped: dropped.map((d) => d.ts) });
  }
  if (tooOld.length) input.log.warn('imported checkpoints older than every kept one not published (checkpoints.keep)', { remote: remote.name, ts: tooOld, keep });
  return { published: entries, already, tooOld };
}
