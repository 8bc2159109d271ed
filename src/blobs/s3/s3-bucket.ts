import { PassThrough, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { RepointError } from '../../errors.ts';
import { isSha256Hex } from '../blob-paths.ts';
import type { ByteRange } from '../blob-store.ts';

export interface S3Location {
  endpoint?: string;
  bucket: string;
  region: string;
  /** Both or neither; neither: the SDK's default chain (AWS_* environment variables, profiles, roles). */
  accessKeyId?: string;
  secretAccessKey?: string;
  forcePathStyle: boolean;
}

/** The same layout as on disk: `sha256/<ab>/<cd>/<hex>`. */
export function blobKey(sha256: string): string {
  return `sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

const KEY = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{2})\/([0-9a-f]{64})$/;

export function shaOfKey(key: string | undefined): string | undefined {
  const m = key ? KEY.exec(key) : null;
  return m && m[3]!.startsWith(m[1]! + m[2]!) && isSha256Hex(m[3]!) ? m[3] : undefined;
}

export function s3ClientConfig(loc: S3Location): S3ClientConfig {
  return {
    ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
    region: loc.region,
    forcePathStyle: loc.forcePathStyle,
    ...(loc.accessKeyId && loc.secretAccessKey ? { credentials: { accessKeyId: loc.accessKeyId, secretAccessKey: loc.secretAccessKey } } : {}),
    // Default flexible checksums make Ceph RGW answer a streamed PutObject 411 MissingContentLength;
    // integrity is ours anyway: every blob is verified by sha256 before it is stored.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}

export function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** A failure of the object store is "not now" (503), never a wrong answer. */
export function unavailable(op: string, err: unknown): RepointError {
  const status = statusOf(err);
  return new RepointError('BLOB_STORE_UNAVAILABLE', `object storage ${op} failed: ${(err as Error).message}${status ? ` (HTTP ${status})` : ''}`, { op, status }, { cause: err });
}

export interface ObjectHead {
  size: number;
  lastModifiedMs: number;
  /** x-amz-meta-mtime when the uploader knew upstream's Last-Modified. */
  mtimeMs?: number;
}

export interface Upload {
  key: string;
  uploadId: string;
  initiatedMs: number;
}

/** The object-storage requests the store makes, one method each, errors mapped. */
export class S3Bucket {
  readonly client: S3Client;
  readonly name: string;

  constructor(loc: S3Location, client: S3Client = new S3Client(s3ClientConfig(loc))) {
    this.client = client;
    this.name = loc.bucket;
  }

  async head(sha256: string): Promise<ObjectHead | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: blobKey(sha256) }));
      const meta = Number(res.Metadata?.['mtime']);
      return { size: res.ContentLength ?? 0, lastModifiedMs: res.LastModified?.getTime() ?? 0, ...(Number.isFinite(meta) && meta > 0 ? { mtimeMs: meta } : {}) };
    } catch (err) {
      if (statusOf(err) === 404) return undefined;
      throw unavailable('HEAD', err);
    }
  }

  /** The object's bytes as a stream that errors NOT_FOUND when it is missing. */
  get(sha256: string, range?: ByteRange): Readable {
    const out = new PassThrough({ highWaterMark: 256 * 1024 });
    const ac = new AbortController();
    out.once('close', () => ac.abort());
    const cmd = new GetObjectCommand({ Bucket: this.name, Key: blobKey(sha256), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) });
    this.client.send(cmd, { abortSignal: ac.signal }).then(
      (res) => {
        const body = res.Body as Readable | undefined;
        if (!body) return out.destroy(unavailable('GET', new Error('no body')));
        body.once('error', (err) => out.destroy(unavailable('GET body', err)));
        body.pipe(out);
      },
      (err: unknown) => {
        if (out.destroyed) return;
        out.destroy(statusOf(err) === 404 ? new RepointError('NOT_FOUND', `blob ${sha256} is not in the bucket`) : unavailable('GET', err));
      },
    );
    return out;
  }

  async delete(sha256: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: blobKey(sha256) }));
    } catch (err) {
      throw unavailable('DELETE', err);
    }
  }

  /**
   * Every blob object, page by page (RGW may answer a short page that is still truncated: follow
   * the continuation token, never stop on a short page). Keys that are not blobs are skipped.
   */
  async *list(): AsyncIterable<{ sha256: string; size: number; lastModifiedMs: number }> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: 'sha256/', ContinuationToken: token }));
      } catch (err) {
        throw unavailable('LIST', err);
      }
      for (const o of page.Contents ?? []) {
        const sha256 = shaOfKey(o.Key);
        if (sha256) yield { sha256, size: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  /** Multipart uploads in progress (or abandoned) under the blob prefix. */
  async *uploads(): AsyncIterable<Upload> {
    let keyMarker: string | undefined;
    let idMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.client.send(new ListMultipartUploadsCommand({ Bucket: this.name, Prefix: 'sha256/', KeyMarker: keyMarker, UploadIdMarker: idMarker }));
      } catch (err) {
        throw unavailable('LIST uploads', err);
      }
      for (const u of page.Uploads ?? []) {
        if (u.Key && u.UploadId) yield { key: u.Key, uploadId: u.UploadId, initiatedMs: u.Initiated?.getTime() ?? 0 };
      }
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      idMarker = page.NextUploadIdMarker;
    }
  }

  async abortUpload(u: Upload): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: u.key, UploadId: u.uploadId }));
    } catch (err) {
      if (statusOf(err) !== 404) throw unavailable('abort upload', err); // 404: finished or aborted meanwhile
    }
  }

  /** The bucket answers (readiness). */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.name }));
    } catch (err) {
      throw unavailable(`HEAD bucket ${this.name}`, err);
    }
  }

  /**
   * A URL the client fetches the blob from directly. Presigned URLs are per method (a GET-signed URL
   * is 403 on HEAD), so it is signed for the request's method.
   */
  async presign(sha256: string, method: 'GET' | 'HEAD', expiresInS: number, cacheControl: string): Promise<string> {
    const Key = blobKey(sha256);
    const cmd = method === 'HEAD'
      ? new HeadObjectCommand({ Bucket: this.name, Key, ResponseCacheControl: cacheControl })
      : new GetObjectCommand({ Bucket: this.name, Key, ResponseCacheControl: cacheControl });
    return getSignedUrl(this.client, cmd, { expiresIn: expiresInS });
  }

  destroy(): void {
    this.client.destroy();
  }
}
