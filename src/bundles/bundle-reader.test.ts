import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pack } from 'tar-stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { isRepointError } from '../errors.ts';
import { loadKeyring, type Keyring } from '../trust/keyring.ts';
import { loadOrCreateSigner, type Signer } from '../trust/signer.ts';
import { FORMAT, MANIFEST_ENTRY, SIGNATURE_ENTRY, blobEntryName, serializeBundleManifest, type BlobRef, type BundleManifest } from './bundle-manifest.ts';
import { readBundle } from './bundle-reader.ts';
import { writeBundle } from './bundle-writer.ts';

let signer: Signer;
let other: Signer;
let trusted: Keyring;
const blobs = [Buffer.from('first blob'), Buffer.alloc(5 * 2 ** 20, 7), Buffer.from('third')];
const refs: BlobRef[] = blobs.map((b) => ({ sha256: createHash('sha256').update(b).digest('hex'), size: b.length }));

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-bundle-'));
  signer = await loadOrCreateSigner(join(dir, 'a.asc'));
  other = await loadOrCreateSigner(join(dir, 'b.asc'));
  await writeFile(join(dir, 'a.pub.asc'), signer.publicKeyArmored);
  trusted = await loadKeyring([join(dir, 'a.pub.asc')]);
});

function manifest(over: Partial<BundleManifest> = {}, by: Signer = signer): BundleManifest {
  return {
    format: FORMAT, version: 1, createdAt: new Date().toISOString(), exporter: { fingerprint: by.fingerprint, software: 'test' },
    remote: { name: 'deb', type: 'apt' }, checkpoints: [], since: null, blobs: refs,
    totals: { count: refs.length, bytes: refs.reduce((n, r) => n + r.size, 0) }, ...over,
  };
}

async function store(): Promise<MemoryBlobStore> {
  const s = new MemoryBlobStore();
  for (const b of blobs) {
    const w = await s.createWriter();
    await w.write(b);
    await w.commit();
  }
  return s;
}

async function written(m: BundleManifest, s: MemoryBlobStore, by: Signer = signer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const out = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c); cb(); } });
  const bytes = serializeBundleManifest(m);
  await writeBundle(out, { manifest: bytes, signature: Buffer.from(await by.detachSignArmored(bytes)), blobs: m.blobs, store: s, mtime: new Date() });
  return Buffer.concat(chunks);
}

/** A hand-made tar: the signed manifest, then these entries. */
async function crafted(m: BundleManifest, entries: Array<{ name: string; data: Buffer }>): Promise<Buffer> {
  const tar = pack();
  const chunks: Buffer[] = [];
  tar.on('data', (c) => { chunks.push(c as Buffer); });
  const done = new Promise<void>((r) => tar.on('end', () => r()));
  const bytes = serializeBundleManifest(m);
  tar.entry({ name: MANIFEST_ENTRY }, bytes);
  tar.entry({ name: SIGNATURE_ENTRY }, Buffer.from(await signer.detachSignArmored(bytes)));
  for (const e of entries) tar.entry({ name: e.name }, e.data);
  tar.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function read(tar: Buffer): Promise<{ got: Map<string, Buffer>; manifest: BundleManifest }> {
  const got = new Map<string, Buffer>();
  const m = await readBundle(Readable.from([tar]), {
    trusted,
    target: async (ref) => {
      const parts: Buffer[] = [];
      return { write: (c) => { parts.push(c); }, commit: async () => { got.set(ref.sha256, Buffer.concat(parts)); }, abort: async () => {} };
    },
  });
  return { got, manifest: m };
}

async function refusal(tar: Buffer): Promise<{ code: string; message: string }> {
  try {
    await read(tar);
  } catch (err) {
    if (isRepointError(err)) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected the bundle to be refused');
}

describe('bundle tar: write and read', () => {
  it('round-trips: manifest, signature, then every blob verified into its target', async () => {
    const { got, manifest: m } = await read(await written(manifest(), await store()));
    expect(m.blobs).toEqual(refs);
    for (const [i, r] of refs.entries()) expect(got.get(r.sha256)?.equals(blobs[i]!)).toBe(true);
  });

  it('refuses a bundle signed by a key it does not trust, before any blob', async () => {
    expect(await refusal(await written(manifest({}, other), await store(), other))).toMatchObject({ code: 'BUNDLE_UNTRUSTED' });
  });

  it('refuses a newer format version, saying so', async () => {
    expect(await refusal(await written(manifest({ version: 2 }), await store()))).toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringMatching(/version 2 is newer/) });
  });

  it('refuses entries out of order, entries the manifest does not list, a wrong size, and a missing entry', async () => {
    const m = manifest();
    const entry = (i: number): { name: string; data: Buffer } => ({ name: blobEntryName(refs[i]!.sha256), data: blobs[i]! });
    expect((await refusal(await crafted(m, [entry(1), entry(0), entry(2)]))).message).toMatch(/expected .* next, found/);
    expect((await refusal(await crafted(m, [entry(0), entry(1), entry(2), { name: 'extra', data: Buffer.from('x') }]))).message).toMatch(/entries its manifest does not list, e\.g\. extra/);
    expect((await refusal(await crafted(m, [entry(0), { name: entry(1).name, data: Buffer.from('short') }]))).message).toMatch(/has 5 bytes; the manifest says/);
    expect((await refusal(await crafted(m, [entry(0), entry(1)]))).message).toMatch(/truncated/);
  });

  it('refuses a blob whose bytes do not hash to its name', async () => {
    const m = manifest({ blobs: [{ ...refs[0]!, size: 10 }], totals: { count: 1, bytes: 10 } });
    const r = await refusal(await crafted(m, [{ name: blobEntryName(refs[0]!.sha256), data: Buffer.from('other blob') }]));
    expect(r).toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringMatching(/is damaged: its bytes hash to/) });
  });

  it('verifies the other digests an entry lists (sha512, sha384, sha224) and refuses one that does not match', async () => {
    const digest = (algo: string, b: Buffer): string => createHash(algo).update(b).digest('hex');
    const listed = refs.map((r, i) => ({ ...r, sha512: digest('sha512', blobs[i]!), sha384: digest('sha384', blobs[i]!), sha224: digest('sha224', blobs[i]!) }));
    expect((await read(await written(manifest({ blobs: listed }), await store()))).got.size).toBe(refs.length);
    for (const algo of ['sha512', 'sha384', 'sha224'] as const) {
      const wrong = listed.map((r, i) => (i === 2 ? { ...r, [algo]: digest(algo, Buffer.from('another file')) } : r));
      expect(await refusal(await written(manifest({ blobs: wrong }), await store()))).toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining(`does not match its listed ${algo}`) });
    }
  });

  it('fails an export whose stored blob no longer matches its name instead of shipping it', async () => {
    const s = await store();
    const data = s.storage.blobs.get(refs[2]!.sha256)!.data;
    data[0] = data[0]! ^ 0xff;
    await expect(written(manifest(), s)).rejects.toThrow(/is corrupt .* run "repoint verify"/);
  });
});
