import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { extract, type Extract, type Header } from 'tar-stream';
import { RepointError, isRepointError } from '../errors.ts';
import type { Keyring } from '../trust/keyring.ts';
import { verifyDetached } from '../trust/verify.ts';
import {
  MANIFEST_ENTRY, MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES, SIGNATURE_ENTRY, blobEntryName, parseBundleManifest, type BlobRef, type BundleManifest,
} from './bundle-manifest.ts';

/** Where a blob's verified bytes go (the store, memory, nowhere). */
export interface BlobTarget {
  write(chunk: Buffer): Promise<void> | void;
  /** Called once every byte arrived and the sha256 (and sha512, if listed) matched. */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface ReadBundleOptions {
  trusted: Keyring;
  /** Runs once the signature verified and before any blob is read: may refuse the bundle (throw). */
  onManifest?: (m: BundleManifest, signers: readonly string[]) => Promise<void>;
  /** Where each blob goes; undefined: hashed and dropped. */
  target: (ref: BlobRef) => Promise<BlobTarget | undefined>;
  onProgress?: (p: { files: number; bytes: number }) => void;
}

/** One tar entry: a readable of its bytes, with its header. */
type Source = Extract extends AsyncIterable<infer S> ? S : never;
type Entry = AsyncIterator<Source>;

function invalid(message: string, cause?: unknown): RepointError {
  return new RepointError('BUNDLE_INVALID', message, {}, cause ? { cause } : undefined);
}

/** tar-stream's own errors (a torn header, data that ends early) say the file is damaged. */
function damaged(err: unknown): RepointError {
  if (isRepointError(err)) return err;
  return invalid(`the bundle is truncated or damaged: ${(err as Error).message}`, err);
}

async function next(entries: Entry, what: string): Promise<Source> {
  let r: IteratorResult<Source>;
  try {
    r = await entries.next();
  } catch (err) {
    throw damaged(err);
  }
  if (r.done) throw invalid(`the bundle is truncated: it ends before ${what}`);
  return r.value;
}

async function readSmall(entry: Source, name: string, max: number): Promise<Buffer> {
  if (entry.header.name !== name || entry.header.type !== 'file') throw invalid(`the bundle must start with ${MANIFEST_ENTRY} and ${SIGNATURE_ENTRY}; found ${entry.header.name}`);
  if (entry.header.size > max) throw invalid(`${name} has ${entry.header.size} bytes, more than the ${max} allowed`);
  const chunks: Buffer[] = [];
  try {
    for await (const c of entry) chunks.push(c as Buffer);
  } catch (err) {
    throw damaged(err);
  }
  return Buffer.concat(chunks);
}

/** The signed manifest: its bytes are dropped once parsed (a Debian-scale one is ~6 MiB, its parse more). */
async function readHead(entries: Entry, trusted: Keyring): Promise<{ manifest: BundleManifest; signers: string[] }> {
  const manifestBytes = await readSmall(await next(entries, MANIFEST_ENTRY), MANIFEST_ENTRY, MAX_MANIFEST_BYTES);
  const signature = await readSmall(await next(entries, SIGNATURE_ENTRY), SIGNATURE_ENTRY, MAX_SIGNATURE_BYTES);
  let signers: string[];
  try {
    signers = (await verifyDetached(manifestBytes, signature, trusted)).signers;
  } catch (err) {
    throw new RepointError('BUNDLE_UNTRUSTED', `the bundle is not signed by a trusted key (import.trustedKeys: ${trusted.describe()}): ${(err as Error).message}`, {}, { cause: err });
  }
  const manifest = parseBundleManifest(manifestBytes);
  if (!signers.includes(manifest.exporter.fingerprint)) throw new RepointError('BUNDLE_UNTRUSTED', `the bundle names exporter ${manifest.exporter.fingerprint} but is signed by ${signers.join(', ')}`);
  return { manifest, signers };
}

/**
 * Reads a bundle tar: verifies the manifest's signature with the trusted keys before anything else,
 * then streams every blob entry (in manifest order, exact name and size) through sha256 into its
 * target, committing it only when the digest matched. Any damage, a missing or extra entry, refuses
 * the bundle. Returns the manifest.
 */
export async function readBundle(input: Readable, opts: ReadBundleOptions): Promise<BundleManifest> {
  const tar = extract();
  input.once('error', (err) => tar.destroy(err));
  input.pipe(tar);
  const entries: Entry = tar[Symbol.asyncIterator]();
  try {
    const { manifest, signers } = await readHead(entries, opts.trusted);
    await opts.onManifest?.(manifest, signers);
    let files = 0;
    let bytes = 0;
    for (const ref of manifest.blobs) {
      const e = await next(entries, `${blobEntryName(ref.sha256)} (${files} of ${manifest.blobs.length} blobs read)`);
      if (e.header.name !== blobEntryName(ref.sha256) || e.header.type !== 'file') throw invalid(`expected ${blobEntryName(ref.sha256)} next, found ${e.header.name}`);
      if (e.header.size !== ref.size) throw invalid(`${e.header.name} has ${e.header.size} bytes; the manifest says ${ref.size}`);
      await readBlob(e, ref, await opts.target(ref));
      files++;
      bytes += ref.size;
      opts.onProgress?.({ files, bytes });
    }
    let end: IteratorResult<unknown>;
    try {
      end = await entries.next();
    } catch (err) {
      throw damaged(err);
    }
    if (!end.done) throw invalid(`the bundle holds entries its manifest does not list, e.g. ${(end.value as { header: Header }).header.name}`);
    return manifest;
  } catch (err) {
    tar.destroy();
    input.unpipe(tar);
    input.destroy();
    throw err;
  }
}

async function readBlob(e: Source, ref: BlobRef, target: BlobTarget | undefined): Promise<void> {
  const sha256 = createHash('sha256');
  const sha512 = ref.sha512 ? createHash('sha512') : undefined;
  try {
    try {
      for await (const chunk of e) {
        const c = chunk as Buffer;
        sha256.update(c);
        sha512?.update(c);
        if (target) await target.write(c);
      }
    } catch (err) {
      throw damaged(err);
    }
    const actual = sha256.digest('hex');
    if (actual !== ref.sha256) throw invalid(`${blobEntryName(ref.sha256)} is damaged: its bytes hash to sha256 ${actual}`);
    if (sha512 && sha512.digest('hex') !== ref.sha512) throw invalid(`${blobEntryName(ref.sha256)} does not match its listed sha512`);
  } catch (err) {
    await target?.abort();
    throw err;
  }
  await target?.commit();
}
