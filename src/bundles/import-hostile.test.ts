// Signed bundles a hostile or broken exporter could write (the signature verifies: only the content is wrong).
import { PassThrough } from 'node:stream';
import { beforeAll, expect, it } from 'vitest';
import { Catalogue, keys, sha256, silentLogger, source, types } from '../../test/helpers/bundle-harness.ts';
import { configOf, memoryWorld } from '../../test/helpers/memory-world.ts';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import type { Keyring } from '../trust/keyring.ts';
import type { Signer } from '../trust/signer.ts';
import { FORMAT, serializeBundleManifest, type BundleCheckpoint, type BundleManifest } from './bundle-manifest.ts';
import { writeBundle } from './bundle-writer.ts';
import { importBundle } from './importer.ts';

let signer: Signer;
let inside: Signer;
let trusted: Keyring;
beforeAll(async () => ({ signer, inside, trusted } = await keys()));

const config = configOf({ deb: { type: 'apt' } });

/** A bundle carrying `files` (in this order), listing `checkpoints`, signed by the trusted exporter. */
async function signedBundle(files: Buffer[], checkpoints: BundleCheckpoint[]): Promise<Buffer> {
  const store = new MemoryBlobStore();
  for (const f of files) {
    const w = await store.createWriter();
    await w.write(f);
    await w.commit();
  }
  const blobs = files.map((f) => ({ sha256: sha256(f), size: f.length }));
  const m: BundleManifest = {
    format: FORMAT, version: 1, createdAt: new Date().toISOString(), exporter: { fingerprint: signer.fingerprint, software: 'test' },
    remote: { name: 'deb', type: 'apt' }, checkpoints, since: null, blobs, totals: { count: blobs.length, bytes: files.reduce((n, f) => n + f.length, 0) },
  };
  const bytes = serializeBundleManifest(m);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeBundle(out, { manifest: bytes, signature: Buffer.from(await signer.detachSignArmored(bytes)), blobs, store, mtime: new Date() });
  out.end();
  return Buffer.concat(chunks);
}

function checkpointManifest(ts: string, meta: Buffer[], createdAt: string): Buffer {
  return Buffer.from(JSON.stringify({ version: 1, remote: 'deb', type: 'apt', ts, createdAt, signer: signer.fingerprint, meta: meta.map(sha256) }));
}

it('refuses a signed manifest that lists one timestamp twice, publishing nothing (the catalogue would hold two checkpoints under one ts)', async () => {
  const ts = '20240101T000000Z';
  const a = checkpointManifest(ts, [], '2024-01-01T00:00:00.000Z');
  const b = checkpointManifest(ts, [], '2024-01-01T00:00:01.000Z');
  const ref = (m: Buffer) => ({ ts, createdAt: '2024-01-01T00:00:00.000Z', manifest: sha256(m), files: 0, bytes: 0 });
  const tar = await signedBundle([a, b], [ref(a), ref(b)]);
  const i = memoryWorld();
  const catalogue = new Catalogue(i.state, i.blobs);
  const run = importBundle({ source: source(tar), config, types, content: i.content, catalogue, signer: inside, trusted, baseUrl: 'http://in', log: silentLogger });
  await expect(run).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining(`lists checkpoint ${ts} twice`) });
  expect(await catalogue.list('deb')).toEqual([]);
});
