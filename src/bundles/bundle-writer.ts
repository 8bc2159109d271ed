import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import type { BlobStore, BulkBlobAccess } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import { TarOut } from './tar-out.ts';
import { MANIFEST_ENTRY, SIGNATURE_ENTRY, blobEntryName, type BlobRef } from './bundle-manifest.ts';

export interface WriteProgress {
  files: number;
  bytes: number;
}

/** Blobs up to this size are read whole (one open, one read) and read ahead; larger ones stream. */
const SMALL = 4 * 2 ** 20;
/** Read-ahead: how many small blobs, and how many bytes, may be in memory ahead of the tar. */
const AHEAD_COUNT = 32;
const AHEAD_BYTES = 64 * 2 ** 20;

interface Prefetched {
  ref: BlobRef;
  data: Promise<Buffer> | undefined;
}

/**
 * Writes a bundle as a tar stream: the manifest, its signature, then every blob in manifest order,
 * read from the store and re-hashed on the way (a blob that no longer matches its name fails the
 * export instead of shipping). Memory is bounded by the read-ahead, whatever the bundle's size.
 */
export async function writeBundle(out: Writable, opts: {
  manifest: Buffer;
  signature: Buffer;
  blobs: readonly BlobRef[];
  store: BlobStore;
  /** The process does nothing else meanwhile (the CLI): reads run synchronously. */
  syncIo?: boolean;
  mtime: Date;
  onProgress?: (p: WriteProgress) => void;
}): Promise<void> {
  const tar = new TarOut(out);
  try {
    await tar.file(MANIFEST_ENTRY, opts.manifest, opts.mtime);
    await tar.file(SIGNATURE_ENTRY, opts.signature, opts.mtime);
    let files = 0;
    let bytes = 0;
    const done = (ref: BlobRef): void => {
      files++;
      bytes += ref.size;
      opts.onProgress?.({ files, bytes });
    };
    // synchronous reads need no read-ahead: small blobs are read straight into the output chunk
    const direct = opts.syncIo ? opts.store.bulk?.({ sync: true }) : undefined;
    if (direct) {
      for (const ref of opts.blobs) {
        if (ref.size <= SMALL) await directEntry(tar, ref, direct, opts.mtime);
        else await streamEntry(tar, ref, opts.store, opts.mtime);
        done(ref);
      }
    } else {
      for await (const { ref, data } of prefetch(opts.blobs, readSmall(opts.store, false))) {
        if (data) await tar.file(blobEntryName(ref.sha256), checked(ref, await data), opts.mtime);
        else await streamEntry(tar, ref, opts.store, opts.mtime);
        done(ref);
      }
    }
    await tar.finish();
  } catch (err) {
    out.on('error', () => {}); // the caller gets the error from this promise; the output must not crash the process with it
    out.destroy(err as Error);
    throw err;
  }
}

function corrupt(ref: BlobRef, actual: string, size: number): RepointError {
  return new RepointError('INTERNAL', `blob ${ref.sha256} in the store is corrupt (${size} bytes hashing to ${actual}); run "repoint verify", then export again`);
}

function checked<T extends Uint8Array>(ref: BlobRef, data: T): T {
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== ref.sha256 || data.length !== ref.size) throw corrupt(ref, actual, data.length);
  return data;
}

/** A small blob read into the output chunk where it fits (no buffer of its own), else whole; hashed either way. */
async function directEntry(tar: TarOut, ref: BlobRef, bulk: BulkBlobAccess, mtime: Date): Promise<void> {
  await tar.begin(blobEntryName(ref.sha256), ref.size, mtime);
  const slot = tar.slot(ref.size);
  if (slot) {
    await bulk.readInto(ref.sha256, slot);
    checked(ref, slot);
    await tar.filled(ref.size);
  } else {
    const data = Buffer.allocUnsafe(ref.size);
    await bulk.readInto(ref.sha256, data);
    await tar.append(checked(ref, data));
  }
  await tar.pad(ref.size);
}

/** A large blob, streamed into its entry and hashed as it goes. */
async function streamEntry(tar: TarOut, ref: BlobRef, store: BlobStore, mtime: Date): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  await tar.begin(blobEntryName(ref.sha256), ref.size, mtime);
  for await (const chunk of store.open(ref.sha256)) {
    const c = chunk as Buffer;
    size += c.length;
    if (size > ref.size) break; // the header promised ref.size bytes
    hash.update(c);
    await tar.append(c);
  }
  const actual = hash.digest('hex');
  if (actual !== ref.sha256 || size !== ref.size) throw corrupt(ref, actual, size);
  await tar.pad(size);
}

/** Reads a small blob whole: in bulk where the store offers it (no hot-cache churn; synchronous in the CLI). */
function readSmall(store: BlobStore, sync: boolean): (ref: BlobRef) => Promise<Buffer> {
  const bulk = store.bulk?.({ sync });
  if (!bulk) return (ref) => store.readAll(ref.sha256, SMALL);
  return async ({ sha256, size }) => {
    const data = await bulk.readSmall(sha256, SMALL, size);
    if (!data) throw new RepointError('INTERNAL', `blob ${sha256} grew past ${SMALL} bytes in the store`);
    return data;
  };
}

/** Yields blobs in order, small ones already being read (bounded by count and bytes). */
async function* prefetch(blobs: readonly BlobRef[], read: (ref: BlobRef) => Promise<Buffer>): AsyncGenerator<Prefetched> {
  const queue: Prefetched[] = [];
  let queuedBytes = 0;
  let next = 0;
  const fill = (): void => {
    while (next < blobs.length && queue.length < AHEAD_COUNT) {
      const ref = blobs[next]!;
      const small = ref.size <= SMALL;
      if (small && queue.length > 0 && queuedBytes + ref.size > AHEAD_BYTES) return;
      next++;
      const data = small ? read(ref) : undefined;
      data?.catch(() => {}); // surfaced when its turn comes
      queue.push({ ref, data });
      if (small) queuedBytes += ref.size;
      else return; // a large blob streams when its turn comes; read nothing past it yet
    }
  };
  fill();
  while (queue.length > 0) {
    const item = queue.shift()!;
    if (item.data) queuedBytes -= item.ref.size;
    yield item;
    fill();
  }
}
