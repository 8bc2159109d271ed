import { Upload } from '@aws-sdk/lib-storage';
import { RepointError } from '../../errors.ts';
import type { Logger } from '../../log.ts';
import type { BlobInfo, BlobWriter, WrittenBytesReader } from '../blob-store.ts';
import { blobKey, statusOf, unavailable, type S3Bucket } from './s3-bucket.ts';
import { UploadFeed } from './upload-feed.ts';

export interface S3WriterHooks {
  bucket: S3Bucket;
  /** Bytes per part (≥ 5 MiB): what the uploader holds in memory per part in flight. */
  partSize: number;
  /** Parts uploaded at once. */
  queueSize: number;
  /** The blob is in the bucket: record and count it. */
  stored(info: BlobInfo): Promise<void>;
  /** The upload failed after the local commit: drop the local copy, so nothing claims an unstored blob. */
  unstage(sha256: string): Promise<void>;
  log: Logger;
}

interface Running {
  key: string;
  feed: UploadFeed;
  done: Promise<void>;
}

/**
 * Writes to a local temp file (the staging writer: followers tail it as on one node) and, when the
 * content address is known up front, alongside to a multipart upload under its final key. The
 * upload is completed only after the digest verified, and aborted otherwise; with no address known
 * up front it starts at commit, from the verified local file. Never a temporary key plus a copy: a
 * crash would leave junk keys. Writes are conditional (If-None-Match: *), and "already there" (412,
 * 409) counts as stored; RGW ignores the condition on multipart completion, which for a
 * content-addressed key rewrites the same bytes.
 */
export class S3BlobWriter implements BlobWriter {
  readonly #local: BlobWriter;
  readonly #hooks: S3WriterHooks;
  #upload: Running | undefined;
  #commit: Promise<BlobInfo> | undefined;
  #aborted = false;

  constructor(local: BlobWriter, hooks: S3WriterHooks, expectSha256?: string) {
    this.#local = local;
    this.#hooks = hooks;
    if (expectSha256) this.#upload = this.#start(expectSha256.toLowerCase());
  }

  get bytesWritten(): number {
    return this.#local.bytesWritten;
  }

  async write(chunk: Uint8Array): Promise<void> {
    await this.#local.write(chunk);
    this.#upload?.feed.grew();
  }

  openReader(): Promise<WrittenBytesReader> {
    return this.#local.openReader();
  }

  commit(opts: { expectSha256?: string; mtime?: Date } = {}): Promise<BlobInfo> {
    if (this.#aborted) return Promise.reject(new RepointError('INTERNAL', 'blob writer is closed'));
    this.#commit ??= this.#doCommit(opts);
    return this.#commit;
  }

  async abort(): Promise<void> {
    if (this.#commit) {
      await this.#commit.catch(() => {});
      return;
    }
    if (this.#aborted) return;
    this.#aborted = true;
    await Promise.all([this.#local.abort(), this.#cancel()]);
  }

  async #doCommit(opts: { expectSha256?: string; mtime?: Date }): Promise<BlobInfo> {
    let info: BlobInfo;
    try {
      info = await this.#local.commit(opts); // verifies the digest, or throws and discards
    } catch (err) {
      await this.#cancel();
      throw err;
    }
    try {
      if (this.#upload && this.#upload.key !== blobKey(info.sha256)) await this.#cancel(); // the guess was wrong
      const up = this.#upload ?? (this.#upload = this.#start(info.sha256, opts.mtime));
      up.feed.seal(info.size);
      await up.done;
      await this.#hooks.stored(info);
      return info;
    } catch (err) {
      await this.#cancel();
      await this.#hooks.unstage(info.sha256).catch((e: unknown) => this.#hooks.log.warn('dropping the local copy of an unstored blob failed', { sha256: info.sha256, reason: (e as Error).message }));
      throw err;
    }
  }

  #start(sha256: string, mtime?: Date): Running {
    const { bucket, partSize, queueSize } = this.#hooks;
    const key = blobKey(sha256);
    const feed = new UploadFeed(this.#local.openReader(), () => this.#local.bytesWritten);
    const upload = new Upload({
      client: bucket.client,
      params: { Bucket: bucket.name, Key: key, Body: feed, IfNoneMatch: '*', ...(mtime ? { Metadata: { mtime: String(mtime.getTime()) } } : {}) },
      partSize,
      queueSize,
      leavePartsOnError: false,
    });
    const done = upload.done().then(
      () => {},
      (err: unknown) => {
        const status = statusOf(err);
        if (status === 412 || status === 409) return; // another writer stored the same bytes first
        throw feed.errored ?? unavailable('upload', err);
      },
    );
    done.catch(() => {}); // awaited by commit or cancel
    return { key, feed, done };
  }

  /** Ends the upload without completing it: lib-storage aborts the multipart upload. */
  async #cancel(): Promise<void> {
    const up = this.#upload;
    if (!up) return;
    this.#upload = undefined;
    up.feed.destroy(new RepointError('INTERNAL', 'blob writer aborted'));
    await up.done.catch(() => {});
  }
}
