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
import { verifyBundle } from './verify-bundle.ts';
import { repositoryTypes } from '../registry.ts';

let signer: Signer;
let inside: Signer;
let trusted: Keyring;
beforeAll(async () => ({ signer, inside, trusted } = await keys()));

const config = configOf({ deb: { type: 'apt' } });

/** A bundle carrying `files` (in this order), listing `checkpoints`, signed by the trusted exporter. */
async function signedBundle(files: Buffer[], checkpoints: BundleCheckpoint[], type = 'apt'): Promise<Buffer> {
  const store = new MemoryBlobStore();
  for (const f of files) {
    const w = await store.createWriter();
    await w.write(f);
    await w.commit();
  }
  const blobs = files.map((f) => ({ sha256: sha256(f), size: f.length }));
  const m: BundleManifest = {
    format: FORMAT, version: 1, createdAt: new Date().toISOString(), exporter: { fingerprint: signer.fingerprint, software: 'test' },
    remote: { name: 'deb', type }, checkpoints, since: null, blobs, totals: { count: blobs.length, bytes: files.reduce((n, f) => n + f.length, 0) },
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

it.each([
  ['apt', { suites: [{ dir: 'dists/x' }] }, 'suites.0.upstream'],
  ['apt', { suites: [null] }, 'suites.0'],
  ['yum', { repos: [{ dir: 'os', repomd: 'a'.repeat(64), repomdAsc: 'b'.repeat(64) }] }, 'repos.0.files'],
])('refuses a signed %s bundle whose checkpoint manifest has malformed type fields (%j) as BUNDLE_INVALID, not a TypeError', async (type, fields, where) => {
  const ts = '20240101T000000Z';
  const cm = Buffer.from(JSON.stringify({ version: 1, remote: 'deb', type, ts, createdAt: '2024-01-01T00:00:00.000Z', signer: signer.fingerprint, ...fields }));
  const tar = await signedBundle([cm], [{ ts, createdAt: '2024-01-01T00:00:00.000Z', manifest: sha256(cm), files: 0, bytes: 0 }], type);
  const i = memoryWorld();
  const catalogue = new Catalogue(i.state, i.blobs);
  const refusal = { code: 'BUNDLE_INVALID', message: expect.stringContaining(`is malformed: ${where}`) };
  await expect(importBundle({ source: source(tar), config: configOf({ deb: { type } }), types: repositoryTypes, content: i.content, catalogue, signer: inside, trusted, baseUrl: 'http://in', log: silentLogger })).rejects.toMatchObject(refusal);
  await expect(verifyBundle(source(tar), trusted, repositoryTypes)).rejects.toMatchObject(refusal);
  expect(await catalogue.list('deb')).toEqual([]);
});

it('bundle verify refuses, instead of passing unchecked, a bundle listing an index before the checkpoint manifest that names it', async () => {
  const ts = '20240101T000000Z';
  const pkg = Buffer.from('a package the bundle does not carry');
  const index = Buffer.from(`${JSON.stringify({ path: 'pool/p.deb', size: pkg.length, sha256: sha256(pkg) })}\n`);
  const cm = checkpointManifest(ts, [index], '2024-01-01T00:00:00.000Z');
  const tar = await signedBundle([index, cm], [{ ts, createdAt: '2024-01-01T00:00:00.000Z', manifest: sha256(cm), files: 1, bytes: 1 }]);
  const i = memoryWorld();
  await expect(importBundle({ source: source(tar), config, types, content: i.content, catalogue: new Catalogue(i.state, i.blobs), signer: inside, trusted, baseUrl: 'http://in', log: silentLogger }))
    .rejects.toMatchObject({ code: 'BUNDLE_INCOMPLETE' });
  await expect(verifyBundle(source(tar), trusted, types)).rejects.toMatchObject({ code: 'BUNDLE_INVALID', message: expect.stringContaining(`lists metadata blob ${sha256(index)} before`) });
});
