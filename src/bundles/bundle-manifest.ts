import { z } from 'zod';
import { RepointError } from '../errors.ts';

/**
 * The bundle manifest (docs/bundle-format.md): the first tar entry, signed by the exporter. It names
 * every blob the bundle carries (sha256 and exact size, in tar order) and every blob the carried
 * checkpoints need from the incremental base, so an importer can check completeness.
 */
export const MANIFEST_ENTRY = 'bundle.json';
export const SIGNATURE_ENTRY = 'bundle.json.asc';
export const FORMAT = 'repoint-bundle';
export const FORMAT_VERSION = 1;
/** Readers refuse larger manifests before parsing them (a Debian-scale bundle is ~10 MiB). */
export const MAX_MANIFEST_BYTES = 512 * 2 ** 20;
export const MAX_SIGNATURE_BYTES = 1 * 2 ** 20;

const HEX64 = /^[0-9a-f]{64}$/;
const HEX128 = /^[0-9a-f]{128}$/;
const HEX96 = /^[0-9a-f]{96}$/;
const HEX56 = /^[0-9a-f]{56}$/;
const TS = /^\d{8}T\d{6}Z$/;

const blobRef = z.object({
  sha256: z.string().regex(HEX64),
  size: z.number().int().nonnegative(),
  /**
   * Present when the carried checkpoints know this blob only by another strong digest (indexes
   * without sha256: apt SHA512, yum sha512/sha384/sha224); the importer verifies it and records the alias.
   */
  sha512: z.string().regex(HEX128).optional(),
  sha384: z.string().regex(HEX96).optional(),
  sha224: z.string().regex(HEX56).optional(),
});

const checkpointRef = z.object({
  ts: z.string().regex(TS),
  createdAt: z.string(),
  /** sha256 of the checkpoint manifest blob (carried in the bundle). */
  manifest: z.string().regex(HEX64),
  files: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative(),
});

const manifestSchema = z.object({
  format: z.literal(FORMAT),
  version: z.number().int().positive(),
  createdAt: z.string(),
  exporter: z.object({ fingerprint: z.string().regex(/^[0-9A-F]{40}$/), software: z.string() }),
  remote: z.object({ name: z.string(), type: z.string() }),
  checkpoints: z.array(checkpointRef),
  since: z.object({
    ts: z.string().regex(TS),
    manifest: z.string().regex(HEX64),
    /** Blobs the carried checkpoints need that the base provides (not carried). */
    blobs: z.array(z.unknown()),
  }).nullable(),
  // checked by checkBlobRefs, in place: tens of thousands of items parsed into copies cost a transient heap spike
  blobs: z.array(z.unknown()),
  totals: z.object({ count: z.number().int().nonnegative(), bytes: z.number().int().nonnegative() }),
});

export type BlobRef = z.output<typeof blobRef>;
export type BundleCheckpoint = z.output<typeof checkpointRef>;
type ParsedManifest = z.output<typeof manifestSchema>;
export type BundleManifest = Omit<ParsedManifest, 'blobs' | 'since'> & {
  since: (Omit<NonNullable<ParsedManifest['since']>, 'blobs'> & { blobs: BlobRef[] }) | null;
  blobs: BlobRef[];
};

/** What blobRef checks, without copying each item. */
function checkBlobRefs(items: unknown[], path: string): BlobRef[] {
  for (const [i, b] of items.entries()) {
    const r = b as Partial<Record<keyof BlobRef, unknown>> | null;
    const bad = typeof r !== 'object' || r === null ? 'expected an object'
      : typeof r.sha256 !== 'string' || !HEX64.test(r.sha256) ? 'sha256: expected 64 lowercase hex digits'
        : typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 0 ? 'size: expected a non-negative integer'
          : r.sha512 !== undefined && (typeof r.sha512 !== 'string' || !HEX128.test(r.sha512)) ? 'sha512: expected 128 lowercase hex digits'
            : r.sha384 !== undefined && (typeof r.sha384 !== 'string' || !HEX96.test(r.sha384)) ? 'sha384: expected 96 lowercase hex digits'
              : r.sha224 !== undefined && (typeof r.sha224 !== 'string' || !HEX56.test(r.sha224)) ? 'sha224: expected 56 lowercase hex digits' : undefined;
    if (bad) throw invalid(`${MANIFEST_ENTRY}: ${path}.${i}: ${bad}`);
  }
  return items as BlobRef[];
}

/** The tar entry name of a blob: the store's own layout. */
export function blobEntryName(sha256: string): string {
  return `blobs/sha256/${sha256.slice(0, 2)}/${sha256.slice(2, 4)}/${sha256}`;
}

function invalid(message: string): RepointError {
  return new RepointError('BUNDLE_INVALID', message);
}

/** Parses a manifest whose signature has already verified; refuses another format or a newer version. */
export function parseBundleManifest(bytes: Uint8Array): BundleManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw invalid(`${MANIFEST_ENTRY} is not JSON`);
  }
  const head = raw as { format?: unknown; version?: unknown } | null;
  if (head?.format !== FORMAT) throw invalid(`${MANIFEST_ENTRY} is not a repoint bundle manifest (format ${JSON.stringify(head?.format)})`);
  if (typeof head.version === 'number' && head.version > FORMAT_VERSION) {
    throw invalid(`bundle format version ${head.version} is newer than this repoint reads (${FORMAT_VERSION}); upgrade the importing node`);
  }
  const r = manifestSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw invalid(`${MANIFEST_ENTRY}: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
  }
  const m: BundleManifest = {
    ...r.data,
    blobs: checkBlobRefs(r.data.blobs, 'blobs'),
    since: r.data.since ? { ...r.data.since, blobs: checkBlobRefs(r.data.since.blobs, 'since.blobs') } : null,
  };
  const seen = new Set<string>();
  let bytesTotal = 0;
  for (const b of m.blobs) {
    if (seen.has(b.sha256)) throw invalid(`${MANIFEST_ENTRY} lists blob ${b.sha256} twice`);
    seen.add(b.sha256);
    bytesTotal += b.size;
  }
  if (m.totals.count !== m.blobs.length || m.totals.bytes !== bytesTotal) throw invalid(`${MANIFEST_ENTRY}: totals do not match the blob list`);
  const timestamps = new Set<string>();
  for (const c of m.checkpoints) {
    // one catalogue entry per ts: a second would publish two checkpoints under one timestamp
    if (timestamps.has(c.ts)) throw invalid(`${MANIFEST_ENTRY} lists checkpoint ${c.ts} twice`);
    timestamps.add(c.ts);
    if (!seen.has(c.manifest)) throw invalid(`${MANIFEST_ENTRY}: checkpoint ${c.ts} names a manifest blob the bundle does not carry`);
    if (m.since && c.ts <= m.since.ts) throw invalid(`${MANIFEST_ENTRY}: checkpoint ${c.ts} is not newer than its base ${m.since.ts}`);
  }
  return m;
}

export function serializeBundleManifest(m: BundleManifest): Buffer {
  return Buffer.from(`${JSON.stringify(m)}\n`);
}
