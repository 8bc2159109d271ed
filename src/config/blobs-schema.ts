import { z } from 'zod';
import { choice, flag, httpUrl, strict } from './fields.ts';

/** A secret: its value never appears in a message (a wrong type says so without echoing it). */
const secret = () => z.string({ error: 'expected a non-empty string (its value is not shown)' }).min(1, { error: 'expected a non-empty string' });

const fields = {
  type: choice(['fs', 's3']).default('fs').describe('"fs": blobs under dataDir/blobs (one node, or a shared volume). "s3": S3-compatible object storage shared by several nodes (needs `state:` on Redis); local disk stays a read-through tier within cache.maxSize.'),
  endpoint: httpUrl('expected an http(s) URL like "https://s3.example:9000"').optional()
    .refine((u) => u === undefined || !/^https?:\/\/[^/]*@/.test(u), { error: 'no credentials in the URL: use accessKeyId and secretAccessKey' })
    .describe('The S3 endpoint; omit for AWS.'),
  bucket: z.string().min(1).optional().describe('The bucket (must exist). Required for type s3.'),
  region: z.string().min(1).optional().describe('Default: AWS_REGION, else "us-east-1".'),
  accessKeyId: secret().optional().describe('Default: the standard AWS_* environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), then the SDK\'s other sources.'),
  secretAccessKey: secret().optional().describe('Set with accessKeyId; never shown in logs or pages.'),
  forcePathStyle: flag().default(false).describe('Path-style URLs (http://host/bucket/key): what MinIO and Ceph RGW usually need.'),
  redirect: flag().default(false).describe('true: hits on pool files and by-hash blobs answer 302 to a presigned URL of the object (signed for the request\'s method, Cache-Control immutable); signed metadata is always served by repoint.'),
};

const S3_ONLY = ['endpoint', 'bucket', 'region', 'accessKeyId', 'secretAccessKey'] as const;

/** The `blobs:` block. */
export const blobsSchema = strict(fields).superRefine((b, ctx) => {
  if (b.type === 's3' && !b.bucket) ctx.addIssue({ code: 'custom', path: ['bucket'], message: 'required for type s3; set the bucket name' });
  if (b.type === 'fs') {
    for (const k of S3_ONLY) if (b[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: 'only for type s3 (set blobs.type: s3)' });
    if (b.redirect) ctx.addIssue({ code: 'custom', path: ['redirect'], message: 'only for type s3: a filesystem has no URL to redirect to' });
  }
  if ((b.accessKeyId === undefined) !== (b.secretAccessKey === undefined)) {
    ctx.addIssue({ code: 'custom', path: [b.accessKeyId === undefined ? 'accessKeyId' : 'secretAccessKey'], message: 'set accessKeyId and secretAccessKey together (or neither, for the AWS_* environment variables)' });
  }
});

export type BlobsConfigInput = z.output<typeof blobsSchema>;

export type BlobsConfig =
  | { type: 'fs' }
  | { type: 's3'; endpoint?: string; bucket: string; region: string; accessKeyId?: string; secretAccessKey?: string; forcePathStyle: boolean; redirect: boolean };

/** Resolves the default that comes from the environment (AWS_REGION). */
export function resolveBlobs(b: BlobsConfigInput, awsRegion: string | undefined): BlobsConfig {
  if (b.type === 'fs') return { type: 'fs' };
  return {
    type: 's3',
    ...(b.endpoint ? { endpoint: b.endpoint } : {}),
    bucket: b.bucket ?? '',
    region: b.region ?? awsRegion ?? 'us-east-1',
    ...(b.accessKeyId && b.secretAccessKey ? { accessKeyId: b.accessKeyId, secretAccessKey: b.secretAccessKey } : {}),
    forcePathStyle: b.forcePathStyle,
    redirect: b.redirect,
  };
}

/** What may be shown of the blob store's config (logs, pages): never a secret. */
export function describeBlobs(b: BlobsConfig): Record<string, unknown> {
  if (b.type === 'fs') return { type: 'fs' };
  return {
    type: 's3',
    endpoint: b.endpoint ?? '(AWS)',
    bucket: b.bucket,
    region: b.region,
    credentials: b.accessKeyId ? 'from the config (not shown)' : 'from the environment (not shown)',
    forcePathStyle: b.forcePathStyle,
    redirect: b.redirect,
  };
}
