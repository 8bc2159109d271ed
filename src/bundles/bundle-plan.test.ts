import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { BlobInfo } from '../blobs/blob-store.ts';
import { memoryWorld, type MemoryWorld } from '../../test/helpers/memory-world.ts';
import { Catalogue } from '../checkpoints/catalogue.ts';
import type { CatalogueEntry, CheckpointManifest } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';
import { stateKeys } from '../state/keys.ts';
import { planBundle } from './bundle-plan.ts';
import type { BundleSupport, PackageRef } from './bundle-support.ts';

interface Listed {
  path: string;
  /** '' when the index lists only sha512 */
  sha256: string;
  size: number;
  sha512?: string;
}

/** What each test checkpoint (by ts) lists. */
const listings = new Map<string, Listed[]>();

/** A repository type whose checkpoints list their packages here, two per batch. */
const reader: BundleSupport = {
  storedMetadataBlobs: () => [],
  async *packageRefs(m: CheckpointManifest): AsyncGenerator<PackageRef[]> {
    const listed = listings.get(m.ts) ?? [];
    for (let at = 0; at < listed.length; at += 2) {
      yield listed.slice(at, at + 2).map((p) => ({ path: p.path, expected: { size: p.size, digests: p.sha512 ? [{ algo: 'sha512', hex: p.sha512 }] : [{ algo: 'sha256', hex: p.sha256 }] } }));
    }
  },
  adopt: () => Promise.reject(new RepointError('INTERNAL', 'not used here')),
};

async function pkg(w: MemoryWorld, name: string, stored = true): Promise<Listed> {
  const data = Buffer.from(`package ${name}`);
  if (stored) await w.content.storeBytes(data);
  return { path: `pool/${name}.deb`, sha256: createHash('sha256').update(data).digest('hex'), size: data.length };
}

async function checkpoint(w: MemoryWorld, ts: string, packages: Listed[]): Promise<CatalogueEntry> {
  listings.set(ts, packages);
  const m = { version: 1, remote: 'r', type: 'test', ts, createdAt: '2026-12-01T00:00:00Z', signer: 'F'.repeat(40) };
  const blob = await w.content.storeBytes(Buffer.from(JSON.stringify(m)));
  return { ts, manifest: blob.sha256, createdAt: m.createdAt, files: packages.length, bytes: 0 };
}

function plan(w: MemoryWorld, carried: CatalogueEntry[], extra: { base?: CatalogueEntry; complete?: (ref: PackageRef) => Promise<BlobInfo> } = {}) {
  return planBundle({ remote: 'r', reader, catalogue: new Catalogue(w.state, w.blobs), content: w.content, upstreams: [], carried, ...extra });
}

describe('planBundle', () => {
  it('carries every package of every carried checkpoint, each once, in index order', async () => {
    const w = memoryWorld();
    const [a, b, c, d] = [await pkg(w, 'a'), await pkg(w, 'b'), await pkg(w, 'c'), await pkg(w, 'd')];
    const first = await checkpoint(w, '20261201T000000Z', [a, b, c]);
    // the newer checkpoint lists its new package first: it must not take the place of one listed before
    const second = await checkpoint(w, '20261202T000000Z', [d, a, b, c]);
    const p = await plan(w, [first, second]);
    expect(p.blobs.map((x) => x.sha256)).toEqual([first.manifest, second.manifest, a.sha256, b.sha256, c.sha256, d.sha256]);
    expect(p.blobs.slice(2).map((x) => x.size)).toEqual([a.size, b.size, c.size, d.size]);
  });

  it('leaves out what the base has, and lists it as needed from the base', async () => {
    const w = memoryWorld();
    const [a, b, c] = [await pkg(w, 'a'), await pkg(w, 'b'), await pkg(w, 'c')];
    const base = await checkpoint(w, '20261201T000000Z', [a, b]);
    const next = await checkpoint(w, '20261202T000000Z', [a, b, c]);
    const p = await plan(w, [next], { base });
    expect(p.blobs.map((x) => x.sha256)).toEqual([next.manifest, c.sha256]);
    expect(p.fromBase.map((x) => x.sha256).sort()).toEqual([a.sha256, b.sha256].sort());
  });

  it('completes a package the store lacks, or refuses without an upstream', async () => {
    const w = memoryWorld();
    const [a, b] = [await pkg(w, 'a'), await pkg(w, 'b', false)];
    const cp = await checkpoint(w, '20261201T000000Z', [a, b]);
    await expect(plan(w, [cp])).rejects.toMatchObject({ code: 'BUNDLE_INCOMPLETE', message: expect.stringContaining('pool/b.deb') });
    const fetched: string[] = [];
    const p = await plan(w, [cp], { complete: async (ref) => { fetched.push(ref.path); return w.content.storeBytes(Buffer.from('package b')); } });
    expect(fetched).toEqual(['pool/b.deb']);
    expect(p.completed).toBe(1);
    expect(p.blobs.map((x) => x.sha256)).toEqual([cp.manifest, a.sha256, b.sha256]);
  });

  it('carries the digest an index lists a package by instead of sha256, also when the store knows its alias or another index lists it by sha256', async () => {
    const w = memoryWorld();
    const [a, b] = [await pkg(w, 'a'), await pkg(w, 'b')];
    const sha512 = (name: string): string => createHash('sha512').update(`package ${name}`).digest('hex');
    await w.state.setMany([{ key: stateKeys.alias('sha512', sha512('a')), value: a.sha256 }]); // a verified download recorded it
    const bySha512 = (p: Listed, name: string): Listed => ({ ...p, sha256: '', sha512: sha512(name) });
    // b: listed by sha256 first, then by sha512 alone (completed from "upstream": it is the same blob)
    const cp = await checkpoint(w, '20261203T000000Z', [bySha512(a, 'a'), b, bySha512(b, 'b')]);
    const p = await plan(w, [cp], { complete: async () => w.content.storeBytes(Buffer.from('package b')) });
    expect(p.blobs.slice(1)).toEqual([{ sha256: a.sha256, size: a.size, sha512: sha512('a') }, { sha256: b.sha256, size: b.size, sha512: sha512('b') }]);
  });

  it('when an index fails mid-way, no completion of an earlier batch goes on after planBundle rejected', async () => {
    const w = memoryWorld();
    const refs: PackageRef[] = Array.from({ length: 40 }, (_, i) => {
      const data = Buffer.from(`package p${i}`);
      return { path: `pool/p${i}.deb`, expected: { size: data.length, digests: [{ algo: 'sha256', hex: createHash('sha256').update(data).digest('hex') }] } };
    });
    const failing: BundleSupport = {
      ...reader,
      async *packageRefs(): AsyncGenerator<PackageRef[]> {
        yield refs;
        throw new RepointError('METADATA_INVALID', 'Packages.xz: corrupt input');
      },
    };
    const cp = await checkpoint(w, '20261204T000000Z', []);
    let settled = false;
    const late: string[] = [];
    const complete = async (ref: PackageRef): Promise<BlobInfo> => {
      await new Promise((r) => setTimeout(r, 10));
      if (settled) late.push(ref.path); // a download for an export that already failed
      return w.content.storeBytes(Buffer.from(`package ${ref.path.slice(5, -4)}`));
    };
    const planned = planBundle({ remote: 'r', reader: failing, catalogue: new Catalogue(w.state, w.blobs), content: w.content, upstreams: [], carried: [cp], complete });
    await expect(planned).rejects.toThrow('corrupt input');
    settled = true;
    await new Promise((r) => setTimeout(r, 200));
    expect(late).toEqual([]);
  });
});
