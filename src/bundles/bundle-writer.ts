import { createHash } from 'node:crypto';
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pack, type Pack } from 'tar-stream';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
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
  const tar = pack();
  const piping = pipeline(tar, coalesce(), out);
  piping.catch(() => {}); // awaited below, after the entries (or the first failure) are written
  try {
    await entry(tar, MANIFEST_ENTRY, opts.manifest, opts.mtime);
    await entry(tar, SIGNATURE_ENTRY, opts.signature, opts.mtime);
    let files = 0;
    let bytes = 0;
    for await (const { ref, data } of prefetch(opts.blobs, readSmall(opts.store, opts.syncIo ?? false))) {
      if (data) await entry(tar, blobEntryName(ref.sha256), checked(ref, await data), opts.mtime);
      else await streamEntry(tar, ref, opts.store, opts.mtime);
      files++;
      bytes += ref.size;
      opts.onProgress?.({ files, bytes });
    }
    tar.finalize();
  } catch (err) {
    tar.destroy(err as Error);
    await piping.catch(() => {});
    throw err;
  }
  await piping;
}

function header(name: string, size: number, mtime: Date): { name: string; size: number; mode: number; mtime: Date; type: 'file'; uid: number; gid: number } {
  return { name, size, mode: 0o644, mtime, type: 'file', uid: 0, gid: 0 };
}

function entry(tar: Pack, name: string, data: Buffer, mtime: Date): Promise<void> {
  return new Promise((resolve, reject) => {
    tar.entry(header(name, data.length, mtime), data, (err) => (err ? reject(err) : resolve()));
  });
}

function corrupt(ref: BlobRef, actual: string, size: number): RepointError {
  return new RepointError('INTERNAL', `blob ${ref.sha256} in the store is corrupt (${size} bytes hashing to ${actual}); run "repoint verify", then export again`);
}

function checked(ref: BlobRef, data: Buffer): Buffer {
  const actual = createHash('sha256').update(data).digest('hex');
  if (actual !== ref.sha256 || data.length !== ref.size) throw corrupt(ref, actual, data.length);
  return data;
}

/** A large blob, streamed into its entry and hashed as it goes. */
async function streamEntry(tar: Pack, ref: BlobRef, store: BlobStore, mtime: Date): Promise<void> {
  const hash = createHash('sha256');
  let size = 0;
  const done = new Promise<void>((resolve, reject) => {
    const sink = tar.entry(header(blobEntryName(ref.sha256), ref.size, mtime), (err) => (err ? reject(err) : resolve()));
    const src = store.open(ref.sha256);
    src.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      size += chunk.length;
      if (!sink.write(chunk)) src.pause();
    });
    sink.on('drain', () => src.resume());
    src.once('error', (err) => { sink.destroy(err); reject(err); });
    src.once('end', () => {
      const actual = hash.digest('hex');
      if (actual !== ref.sha256 || size !== ref.size) {
        const err = corrupt(ref, actual, size);
        sink.destroy(err);
        reject(err);
        return;
      }
      sink.end(undefined);
    });
  });
  await done;
}

/** Reads a small blob whole: in bulk where the store offers it (no hot-cache churn; synchronous in the CLI). */
function readSmall(store: BlobStore, sync: boolean): (sha256: string) => Promise<Buffer> {
  const bulk = store.bulk?.({ sync });
  if (!bulk) return (sha256) => store.readAll(sha256, SMALL);
  return async (sha256) => {
    const data = await bulk.readSmall(sha256, SMALL);
    if (!data) throw new RepointError('INTERNAL', `blob ${sha256} grew past ${SMALL} bytes in the store`);
    return data;
  };
}

/** Yields blobs in order, small ones already being read (bounded by count and bytes). */
async function* prefetch(blobs: readonly BlobRef[], read: (sha256: string) => Promise<Buffer>): AsyncGenerator<Prefetched> {
  const queue: Prefetched[] = [];
  let queuedBytes = 0;
  let next = 0;
  const fill = (): void => {
    while (next < blobs.length && queue.length < AHEAD_COUNT) {
      const ref = blobs[next]!;
      const small = ref.size <= SMALL;
      if (small && queue.length > 0 && queuedBytes + ref.size > AHEAD_BYTES) return;
      next++;
      const data = small ? read(ref.sha256) : undefined;
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

/** Chunks are gathered up to this size before they are written. */
const COALESCE_BYTES = 1 << 20;

/**
 * tar-stream emits three small chunks per entry (header, data, padding); written as they come, a
 * bundle of 60,000 small packages costs 180,000 write calls. Gathered into 1 MiB chunks it costs a few
 * hundred. Bytes are only regrouped, never held past the end of the stream.
 */
function coalesce(): Transform {
  let parts: Buffer[] = [];
  let size = 0;
  const take = (): Buffer => {
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
    parts = [];
    size = 0;
    return out;
  };
  return new Transform({
    highWaterMark: 4 * COALESCE_BYTES,
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      parts.push(chunk);
      size += chunk.length;
      if (size >= COALESCE_BYTES) this.push(take());
      cb();
    },
    flush(cb: TransformCallback) {
      if (size > 0) this.push(take());
      cb();
    },
  });
}
