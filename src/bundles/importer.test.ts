import { setTimeout as sleep } from 'node:timers/promises';
import { Readable } from 'node:stream';
import { beforeAll, expect, it } from 'vitest';
import { Catalogue, checkpoint, exportBundle, indexLine, keys, sha256, silentLogger, source, storePackage, types } from '../../test/helpers/bundle-harness.ts';
import { configOf, memoryWorld, remoteOf } from '../../test/helpers/memory-world.ts';
import { leaseNames } from '../state/keys.ts';
import { tryAcquireLease } from '../state/lease.ts';
import type { Keyring } from '../trust/keyring.ts';
import type { Signer } from '../trust/signer.ts';
import { importBundle } from './importer.ts';
import { verifyBundle } from './verify-bundle.ts';

let signer: Signer;
let inside: Signer;
let trusted: Keyring;
beforeAll(async () => ({ signer, inside, trusted } = await keys()));

const config = configOf({ deb: { type: 'apt' } });
const remote = remoteOf(config, 'deb');

const pkgP = Buffer.from('package P, listed by sha512 only');
const pkgQ = Buffer.from('package Q');

async function outside() {
  const w = memoryWorld();
  const catalogue = new Catalogue(w.state, w.blobs);
  // P was downloaded and verified by its sha512 (the alias is recorded, as after a verified download)
  await storePackage(w.content, pkgP, true);
  await storePackage(w.content, pkgQ);
  await checkpoint(w.content, catalogue, 'deb', '20240101T000000Z', [Buffer.from(`${indexLine('pool/p.deb', pkgP, 'sha512')}\n`)], signer);
  await checkpoint(w.content, catalogue, 'deb', '20240102T000000Z', [Buffer.from(`${indexLine('pool/p.deb', pkgP, 'sha512')}\n${indexLine('pool/q.deb', pkgQ, 'sha256')}\n`)], signer);
  return { w, catalogue };
}

it('a full bundle whose checkpoint lists a stored sha512-only package imports', async () => {
  const o = await outside();
  const tar = await exportBundle(remote, o.w.content, o.catalogue, signer, { checkpoint: '20240101T000000Z' });
  const i = memoryWorld();
  const r = await importBundle({ source: source(tar), config, types, content: i.content, catalogue: new Catalogue(i.state, i.blobs), signer: inside, trusted, baseUrl: 'http://in', log: silentLogger });
  expect(r.published.map((e) => e.ts)).toEqual(['20240101T000000Z']);
});

it('bundle verify accepts an incremental bundle whose new index lists a sha512-only package the base provides', async () => {
  const o = await outside();
  const tar = await exportBundle(remote, o.w.content, o.catalogue, signer, { since: '20240101T000000Z' });
  const v = await verifyBundle(source(tar), trusted, types);
  expect(v.manifest.checkpoints.map((c) => c.ts)).toEqual(['20240102T000000Z']);
});

it('an import started while gc runs does not publish a checkpoint whose blobs that gc deletes', async () => {
  const pkg = Buffer.from('a package the inside node already had (unpinned: gc is collecting it)');
  const o = memoryWorld();
  const oc = new Catalogue(o.state, o.blobs);
  await storePackage(o.content, pkg);
  await checkpoint(o.content, oc, 'deb', '20240101T000000Z', [Buffer.from(indexLine('pool/p.deb', pkg, 'sha256'))], signer);
  const tar = await exportBundle(remote, o.content, oc, signer, {});

  const i = memoryWorld();
  const catalogue = new Catalogue(i.state, i.blobs);
  await storePackage(i.content, pkg); // present here, in no checkpoint: garbage to a running gc
  // a gc is running (it checked for checkpoint leases when it started, before this import took one)
  const gc = await tryAcquireLease(i.state.leases, leaseNames.gc, { ttlMs: 60_000, renewEveryMs: 10_000 });
  expect(gc).toBeDefined();
  const gcDone = (async () => {
    await sleep(300);
    await i.content.blobs.delete(sha256(pkg)); // the collection deletes the unpinned blob
    await gc!.release();
  })();
  async function* chunks() {
    yield tar.subarray(0, tar.length - 1024);
    await gcDone; // the rest (end-of-archive marker) arrives after the collection finished
    yield tar.subarray(tar.length - 1024);
  }
  const r = await importBundle({ source: Readable.from(chunks()), config, types, content: i.content, catalogue, signer: inside, trusted, baseUrl: 'http://in', log: silentLogger });
  expect(r.published.map((e) => e.ts)).toEqual(['20240101T000000Z']);
  // the published checkpoint's package must be in the store
  expect(await i.content.blobs.stat(sha256(pkg))).toBeDefined();
});

it('refuses a bundle for a remote not configured here, naming the one it looked for and how to add it', async () => {
  const o = await outside();
  const tar = await exportBundle(remote, o.w.content, o.catalogue, signer, { checkpoint: '20240101T000000Z' });
  const i = memoryWorld();
  const attempt = (cfg: ReturnType<typeof configOf>, name?: string) => importBundle({
    source: source(tar), config: cfg, types, content: i.content, catalogue: new Catalogue(i.state, i.blobs), signer: inside, trusted, baseUrl: 'http://in', log: silentLogger, ...(name ? { remote: name } : {}),
  });
  await expect(attempt(configOf({ other: { type: 'apt' } }))).rejects.toMatchObject({ code: 'UNKNOWN_REMOTE', message: expect.stringContaining('the bundle is for remote "deb", which is not configured here (remotes: other); add it (an offline remote: `deb: { type: apt }`)') });
  await expect(attempt(config, 'lab')).rejects.toMatchObject({ code: 'UNKNOWN_REMOTE', message: expect.stringContaining('--remote lab (the bundle is for "deb") is not configured here (remotes: deb); add it (an offline remote: `lab: { type: apt }`)') });
});

it('does not publish a checkpoint older than every one checkpoints.keep keeps here, and says so', async () => {
  const o = await outside();
  const kept = configOf({ deb: { type: 'apt', checkpoints: { keep: 1 } } });
  const i = memoryWorld();
  const catalogue = new Catalogue(i.state, i.blobs);
  const run = async (ts: string) => importBundle({
    source: source(await exportBundle(remote, o.w.content, o.catalogue, signer, { checkpoint: ts })), config: kept, types, content: i.content, catalogue, signer: inside, trusted, baseUrl: 'http://in', log: silentLogger,
  });
  expect((await run('20240102T000000Z')).published.map((e) => e.ts)).toEqual(['20240102T000000Z']);
  const older = await run('20240101T000000Z');
  expect(older.published).toEqual([]);
  expect(older.tooOld).toEqual(['20240101T000000Z']);
  expect((await catalogue.list('deb')).map((e) => e.ts)).toEqual(['20240102T000000Z']);
});

it('bundle verify refuses what import refuses: a package whose index lists another size than its carried blob has', async () => {
  const pkg = Buffer.from('package whose index entry states the wrong size');
  const o = memoryWorld();
  const oc = new Catalogue(o.state, o.blobs);
  await storePackage(o.content, pkg);
  const line = JSON.stringify({ path: 'pool/p.deb', size: pkg.length + 1, sha256: sha256(pkg) });
  await checkpoint(o.content, oc, 'deb', '20240101T000000Z', [Buffer.from(`${line}\n`)], signer);
  const tar = await exportBundle(remote, o.content, oc, signer, {});
  const i = memoryWorld();
  const imported = await importBundle({ source: source(tar), config, types, content: i.content, catalogue: new Catalogue(i.state, i.blobs), signer: inside, trusted, baseUrl: 'http://in', log: silentLogger })
    .then(() => 'accepted', (err: { code?: string }) => err.code ?? 'other');
  const verified = await verifyBundle(source(tar), trusted, types).then(() => 'accepted', (err: { code?: string }) => err.code ?? 'other');
  expect(imported).toBe('BUNDLE_INCOMPLETE');
  expect(verified).toBe(imported);
});
