import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BlobWriter } from '../../src/blobs/blob-store.ts';
import { MemoryBlobStore } from '../../src/blobs/memory-blob-store.ts';

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const sha512 = (b: Uint8Array): string => createHash('sha512').update(b).digest('hex');

/** A MemoryBlobStore whose commits wait until `release` settles: "verification is still running". */
export class SlowCommitStore extends MemoryBlobStore {
  readonly #release: Promise<void>;

  constructor(release: Promise<void>) {
    super();
    this.#release = release;
  }

  override async createWriter(): Promise<BlobWriter> {
    const w = await super.createWriter();
    const release = this.#release;
    return {
      get bytesWritten() { return w.bytesWritten; },
      write: (c) => w.write(c),
      openReader: () => w.openReader(),
      commit: async (o) => { await release; return w.commit(o); },
      abort: () => w.abort(),
    };
  }
}

/** Reads a stream as it flows, so a test can look at what has arrived so far. */
export interface Tracked {
  readonly bytes: number;
  readonly data: Buffer;
  /** The whole body; rejects with the stream's error. */
  readonly done: Promise<Buffer>;
}

export function track(r: Readable): Tracked {
  const parts: Buffer[] = [];
  let bytes = 0;
  const done = new Promise<Buffer>((resolve, reject) => {
    r.on('data', (c: Buffer) => { parts.push(c); bytes += c.length; });
    r.on('end', () => resolve(Buffer.concat(parts)));
    r.on('error', reject);
  });
  done.catch(() => {});
  return { get bytes() { return bytes; }, get data() { return Buffer.concat(parts); }, done };
}

/** Waits until `cond` holds (polling), failing after `ms`. */
export async function eventually(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Lets pending I/O and timers run, so a wrong early delivery would have happened by now. */
export const settle = (): Promise<void> => sleep(30);
