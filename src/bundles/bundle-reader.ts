import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { RepointError, isRepointError } from '../errors.ts';
import type { Keyring } from '../trust/keyring.ts';
import { verifyDetached } from '../trust/verify.ts';
import { TarReader, type TarHeader } from './tar-in.ts';
import { altDigestsOfRef } from './alt-digests.ts';
import {
  MANIFEST_ENTRY, MAX_MANIFEST_BYTES, MAX_SIGNATURE_BYTES, SIGNATURE_ENTRY, blobEntryName, parseBundleManifest, type BlobRef, type BundleManifest,
} from './bundle-manifest.ts';

/** Where a blob's verified bytes go (the store, memory, nowhere). */
export interface BlobTarget {
  write(chunk: Buffer): Promise<void> | void;
  /** Called once every byte arrived and the sha256 (and each other digest it lists) matched. */
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

function invalid(message: string, cause?: unknown): RepointError {
  return new RepointError('BUNDLE_INVALID', message, {}, cause ? { cause } : undefined);
}

/** The input's own errors (a read that failed, a connection reset) say the bundle did not arrive whole. */
function damaged(err: unknown): RepointError {
  if (isRepointError(err)) return err;
  return invalid(`the bundle is truncated or damaged: ${(err as Error).message}`, err);
}

async function next(tar: TarReader, what: string): Promise<TarHeader> {
  let h: TarHeader | undefined;
  try {
    h = await tar.next();
  } catch (err) {
    throw damaged(err);
  }
  if (!h) throw invalid(`the bundle is truncated: it ends before ${what}`);
  return h;
}

async function readSmall(tar: TarReader, name: string, max: number): Promise<Buffer> {
  const h = await next(tar, name);
  if (h.name !== name || h.type !== '0') throw invalid(`the bundle must start with ${MANIFEST_ENTRY} and ${SIGNATURE_ENTRY}; found ${h.name}`);
  if (h.size > max) throw invalid(`${name} has ${h.size} bytes, more than the ${max} allowed`);
  const out = Buffer.allocUnsafe(h.size);
  let at = 0;
  try {
    await tar.data(h.size, (slice) => {
      out.set(slice, at);
      at += slice.length;
    });
  } catch (err) {
    throw damaged(err);
  }
  return out;
}

/** The signed manifest: its bytes are dropped once parsed (a Debian-scale one is ~6 MiB, its parse more). */
async function readHead(tar: TarReader, trusted: Keyring): Promise<{ manifest: BundleManifest; signers: string[] }> {
  const manifestBytes = await readSmall(tar, MANIFEST_ENTRY, MAX_MANIFEST_BYTES);
  const signature = await readSmall(tar, SIGNATURE_ENTRY, MAX_SIGNATURE_BYTES);
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
  const tar = new TarReader(input);
  try {
    const { manifest, signers } = await readHead(tar, opts.trusted);
    await opts.onManifest?.(manifest, signers);
    let files = 0;
    let bytes = 0;
    for (const ref of manifest.blobs) {
      const name = blobEntryName(ref.sha256);
      const h = await next(tar, `${name} (${files} of ${manifest.blobs.length} blobs read)`);
      if (h.name !== name || h.type !== '0') throw invalid(`expected ${name} next, found ${h.name}`);
      if (h.size !== ref.size) throw invalid(`${h.name} has ${h.size} bytes; the manifest says ${ref.size}`);
      await readBlob(tar, ref, await opts.target(ref));
      files++;
      bytes += ref.size;
      opts.onProgress?.({ files, bytes });
    }
    const end = await tar.next().catch((err: unknown) => Promise.reject(damaged(err)));
    if (end) throw invalid(`the bundle holds entries its manifest does not list, e.g. ${end.name}`);
    return manifest;
  } catch (err) {
    input.destroy();
    throw err;
  } finally {
    await tar.close().catch(() => {});
  }
}

async function readBlob(tar: TarReader, ref: BlobRef, target: BlobTarget | undefined): Promise<void> {
  const sha256 = createHash('sha256');
  const alt = altDigestsOfRef(ref).map((d) => ({ ...d, hash: createHash(d.algo) }));
  try {
    try {
      await tar.data(ref.size, (slice) => {
        sha256.update(slice);
        for (const a of alt) a.hash.update(slice);
        return target?.write(slice as Buffer);
      });
    } catch (err) {
      throw damaged(err);
    }
    const actual = sha256.digest('hex');
    if (actual !== ref.sha256) throw invalid(`${blobEntryName(ref.sha256)} is damaged: its bytes hash to sha256 ${actual}`);
    for (const a of alt) if (a.hash.digest('hex') !== a.hex) throw invalid(`${blobEntryName(ref.sha256)} does not match its listed ${a.algo}`);
  } catch (err) {
    await target?.abort();
    throw err;
  }
  await target?.commit();
}
