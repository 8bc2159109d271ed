import { hostname } from 'node:os';
import type { Readable } from 'node:stream';
import type { BlobBatch, BlobStore, BlobWriter } from '../blobs/blob-store.ts';
import type { Catalogue } from '../checkpoints/catalogue.ts';
import { forEachLimit } from '../checkpoints/limit.ts';
import type { CatalogueEntry } from '../checkpoints/manifest.ts';
import type { Config, RemoteConfig } from '../config/types.ts';
import { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { ContentService } from '../serve/content.ts';
import { leaseNames } from '../state/keys.ts';
import { leaseHolder, tryAcquireLease, waitUntilFree, type Lease } from '../state/lease.ts';
import type { Keyring } from '../trust/keyring.ts';
import type { Signer } from '../trust/signer.ts';
import type { BlobRef, BundleManifest } from './bundle-manifest.ts';
import { readBundle, type BlobTarget } from './bundle-reader.ts';
import type { BundleSupport } from './bundle-support.ts';
import { addressOf } from './bundle-plan.ts';
import { checkComplete } from './completeness.ts';
import { recordImportedAliases } from './import-aliases.ts';
import { isSameCheckpoint, publishImported } from './publish-imported.ts';

export interface ImportInput {
  source: Readable;
  config: Config;
  /** The remote to import into; default: the bundle's remote name. */
  remote?: string;
  types: ReadonlyMap<string, BundleSupport>;
  content: ContentService;
  catalogue: Catalogue;
  signer: Signer;
  trusted: Keyring;
  baseUrl: string;
  log: Logger;
  /** The process does nothing else meanwhile (the CLI): file calls run synchronously, without thread-pool round trips. */
  syncIo?: boolean;
  onProgress?: (p: { files: number; bytes: number; total: { files: number; bytes: number } }) => void;
}

export interface ImportResult {
  remote: string;
  bundle: BundleManifest;
  published: CatalogueEntry[];
  /** Carried checkpoints this node already had (nothing to do for them). */
  already: string[];
  /** Carried checkpoints not published: older than the `checkpoints.keep` newest ones here. */
  tooOld: string[];
  written: { files: number; bytes: number };
  /** Blobs already in the store (a resumed import, or shared with earlier checkpoints). */
  present: number;
}

/**
 * Commits (fsync, link, fsync dir) run in the background while the next entries stream; this many at
 * most, fewer than the CLI's 64 pool threads so the stream's own opens and writes are not queued
 * behind them. (Stores without bulk access only.)
 */
const COMMITS_IN_FLIGHT = 48;
/**
 * With bulk access, verified blobs wait in temp files and are made durable and visible together
 * (one barrier per batch instead of an fsync and a directory fsync per blob). A crash loses at most
 * one batch of work for the resumed import; a failure flushes what verified first.
 */
const BATCH_BLOBS = 16384;
const BATCH_BYTES = 512 * 2 ** 20;

/** How the importer looks at and writes the store: in bulk when the store offers it. */
interface StoreAccess {
  has(sha256: string): Promise<boolean>;
  size(sha256: string): Promise<number | undefined>;
  batch: BlobBatch | undefined;
}

function storeAccess(blobs: BlobStore, sync: boolean): StoreAccess {
  const bulk = blobs.bulk?.({ sync });
  const size = bulk ? (sha: string) => bulk.size(sha) : async (sha: string) => (await blobs.stat(sha))?.size;
  const batch = bulk?.createBatch();
  return { size, has: batch ? (sha) => batch.contains(sha) : async (sha) => (await size(sha)) !== undefined, batch };
}

function targetRemote(input: ImportInput, m: BundleManifest): { remote: RemoteConfig; reader: BundleSupport } {
  const name = input.remote ?? m.remote.name;
  const remote = input.config.remotes.get(name);
  if (!remote) {
    const what = input.remote === undefined ? `the bundle is for remote "${name}", which` : `--remote ${name} (the bundle is for "${m.remote.name}")`;
    throw new RepointError('UNKNOWN_REMOTE', `${what} is not configured here (remotes: ${[...input.config.remotes.keys()].join(', ')}); add it (an offline remote: \`${name}: { type: ${m.remote.type} }\`) or choose one with --remote`);
  }
  if (remote.type !== m.remote.type) throw new RepointError('BUNDLE_INVALID', `the bundle carries ${m.remote.type} checkpoints; remotes.${name} is a ${remote.type} remote`);
  if (remote.unavailable) throw new RepointError('REMOTE_UNAVAILABLE', `remote ${name} is disabled: ${remote.unavailable}`);
  const reader = input.types.get(remote.type);
  if (!reader) throw new RepointError('CONFIG_INVALID', `this build has no "${remote.type}" repository type`);
  return { remote, reader };
}

/** An incremental bundle needs its base here: the same checkpoint (made here, or imported from it) and every blob it provides. */
async function checkBase(input: ImportInput, remote: RemoteConfig, m: BundleManifest, store: StoreAccess): Promise<void> {
  if (!m.since) return;
  const { ts, manifest } = m.since;
  const entry = (await input.catalogue.list(remote.name)).find((e) => e.ts === ts);
  const hint = `import the bundle that carries ${remote.name}/${ts} (or a full bundle) first`;
  if (!entry) throw new RepointError('BUNDLE_BASE_MISSING', `this incremental bundle needs checkpoint ${remote.name}/${ts} as its base, and this node does not have it: ${hint}`);
  if (!(await isSameCheckpoint(input.catalogue, entry, manifest))) {
    throw new RepointError('BUNDLE_BASE_MISSING', `checkpoint ${remote.name}/${ts} here is not the bundle's base (it came from another source): ${hint}`);
  }
  let missing = 0;
  await forEachLimit(m.since.blobs, 16, async (b) => { if (!(await store.has(b.sha256))) missing++; });
  if (missing > 0) throw new RepointError('BUNDLE_BASE_MISSING', `${missing} blob(s) of the base checkpoint ${remote.name}/${ts} are missing from this store (collected?); import a full bundle`);
}

/**
 * Imports a bundle: signature first, then every blob verified into the store as it streams (present
 * blobs are only hashed: a re-run resumes), then completeness, then one atomic publication of the
 * checkpoints this node lacks, re-signed by this node. Nothing is published on any failure.
 */
export async function importBundle(input: ImportInput): Promise<ImportResult> {
  const { content } = input;
  let target: { remote: RemoteConfig; reader: BundleSupport } | undefined;
  let nothingNew = false;
  const written = { files: 0, bytes: 0 };
  let present = 0;
  const commits = new Set<Promise<unknown>>();
  let commitError: unknown;
  const store = storeAccess(content.blobs, input.syncIo ?? false);
  const { batch } = store;

  const blobTarget = async (ref: BlobRef): Promise<BlobTarget | undefined> => {
    if (commitError !== undefined) throw commitError;
    if (await store.has(ref.sha256)) {
      present++;
      return undefined; // hashed and dropped: the stored copy was verified when it was written
    }
    if (batch) {
      const e = await batch.add(ref.sha256, ref.size, { callerVerifies: true }); // readBundle hashes every entry
      return {
        write: (chunk) => e.write(chunk),
        abort: () => e.abort(),
        commit: async () => {
          await e.finish();
          written.files++;
          written.bytes += ref.size;
          if (batch.pending.count >= BATCH_BLOBS || batch.pending.bytes >= BATCH_BYTES) await batch.flush();
        },
      };
    }
    const w: BlobWriter = await content.blobs.createWriter();
    return {
      write: (chunk) => w.write(chunk),
      abort: () => w.abort(),
      commit: async () => {
        const p = w.commit({ expectSha256: ref.sha256 }).then(() => { written.files++; written.bytes += ref.size; }, (err: unknown) => { commitError ??= err; });
        commits.add(p);
        void p.finally(() => commits.delete(p));
        if (commits.size >= COMMITS_IN_FLIGHT) await Promise.race(commits);
      },
    };
  };

  let bundle: BundleManifest | undefined;
  let total = { files: 0, bytes: 0 };
  let lease: Lease | undefined;
  try {
    return await importHeld();
  } finally {
    await lease?.release();
  }

  async function importHeld(): Promise<ImportResult> {
    try {
      await readBundle(input.source, {
        trusted: input.trusted,
        onManifest: async (m) => {
          bundle = m;
          target = targetRemote(input, m);
          total = { files: m.totals.count, bytes: m.totals.bytes };
          const have = new Set((await input.catalogue.list(target.remote.name)).map((e) => e.ts));
          if (m.checkpoints.every((c) => have.has(c.ts))) {
            nothingNew = true;
            throw new NothingNew();
          }
          await checkBase(input, target.remote, m, store);
          // One checkpoint run or import per remote at a time, and gc waits: what is stored is unpinned until published
          lease = await tryAcquireLease(content.state.leases, leaseNames.checkpoint(target.remote.name), {
            ttlMs: input.config.state.leaseTtlMs, renewEveryMs: input.config.state.leaseRenewMs, owner: `pid ${process.pid} on ${hostname()} (repoint import)`, log: input.log,
          });
          if (!lease) {
            const h = await leaseHolder(content.state.leases, leaseNames.checkpoint(target.remote.name)).catch(() => undefined);
            throw new RepointError('CHECKPOINT_RUNNING', `a checkpoint or import of ${target.remote.name} is running${h?.owner ? ` (${h.owner})` : ''}; try again when it has finished`);
          }
          // gc starts only when no checkpoint lease is held, but one already running could delete a blob
          // this import finds present (and skips) or stores, before it is published: wait it out first
          await waitUntilFree(content.state.leases, leaseNames.gc, lease.signal, (gc) => input.log.info('waiting for gc to finish before the import', { remote: target?.remote.name, gc }));
          input.log.info('importing bundle', { remote: target.remote.name, from: m.remote.name, checkpoints: m.checkpoints.map((c) => c.ts), since: m.since?.ts, blobs: m.totals.count, bytes: m.totals.bytes });
        },
        target: blobTarget,
        onProgress: (p) => input.onProgress?.({ ...p, total }),
      });
    } catch (err) {
      await Promise.allSettled(commits);
      // what verified before the failure is kept, so a re-run skips it
      await batch?.close().catch(() => {});
      if (!(err instanceof NothingNew)) throw err;
    }
    await Promise.allSettled(commits);
    if (commitError !== undefined) throw commitError;
    // durable and visible before completeness is checked and anything is published
    await batch?.close();
    if (!target || !bundle) throw new RepointError('INTERNAL', 'bundle read without a manifest');
    const { remote, reader } = target;
    if (nothingNew) return { remote: remote.name, bundle, published: [], already: bundle.checkpoints.map((c) => c.ts), tooOld: [], written, present };

    // entries listed without sha256 find their blob through an alias, as after a verified download
    await recordImportedAliases(content, bundle);
    // every blob the bundle lists is stored now (written or already present), at its verified size
    const carried = new Map<string, number>(bundle.blobs.map((b) => [b.sha256, b.size]));
    const sizeOf = async (sha: string): Promise<number | undefined> => carried.get(sha) ?? store.size(sha);
    await checkComplete({
      bundle, reader, blobs: content.blobs, state: content.state, upstreams: remote.upstreams,
      has: async (expected) => {
        const sha = await addressOf(content, expected);
        const size = sha === undefined ? undefined : await sizeOf(sha);
        return size !== undefined && (expected.size === undefined || size === expected.size);
      },
      hasBlob: async (sha) => (await sizeOf(sha)) !== undefined,
    });
    if (!lease) throw new RepointError('INTERNAL', 'bundle imported without the checkpoint lease');
    const { published, already, tooOld } = await publishImported({ bundle, remote, reader, content, catalogue: input.catalogue, signer: input.signer, baseUrl: input.baseUrl, log: input.log, lease });
    return { remote: remote.name, bundle, published, already, tooOld, written, present };
  }
}

/** Stops reading a bundle whose checkpoints are all here already (a replay): nothing to verify or store. */
class NothingNew extends Error {}
