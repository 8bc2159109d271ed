// Test helper: a minimal repository type ("apt" by name) whose checkpoints list index blobs of JSON lines, and bundles
// of its checkpoints written by the real exporter, for importer tests on the in-memory seams. Index lines:
// {path, size, sha256?, sha512?}.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { Catalogue } from '../../src/checkpoints/catalogue.ts';
import type { CheckpointManifest } from '../../src/checkpoints/manifest.ts';
import type { Digest } from '../../src/formats/digests.ts';
import { silentLogger } from '../../src/log.ts';
import { stateKeys } from '../../src/state/keys.ts';
import type { ContentService } from '../../src/serve/content.ts';
import { loadKeyring, type Keyring } from '../../src/trust/keyring.ts';
import { loadOrCreateSigner, type Signer } from '../../src/trust/signer.ts';
import type { BundleSupport, PackageRef } from '../../src/bundles/bundle-support.ts';
import { prepareBundle, selectCheckpoints, writePrepared, type ExportSelection } from '../../src/bundles/exporter.ts';
import type { RemoteConfig } from '../../src/config/types.ts';

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
export const sha512 = (b: Uint8Array): string => createHash('sha512').update(b).digest('hex');

export const fakeType: BundleSupport = {
  storedMetadataBlobs: (m) => [...(m['meta'] as string[])],
  async *packageRefs(m, deps, seen) {
    for (const idx of m['meta'] as string[]) {
      if (seen.has(idx) || !(await deps.blobs.stat(idx))) continue;
      seen.add(idx);
      const text = (await deps.blobs.readAll(idx)).toString('utf8');
      const out: PackageRef[] = [];
      for (const line of text.split('\n')) {
        if (!line.startsWith('{')) continue;
        const p = JSON.parse(line) as { path: string; size: number; sha256?: string; sha512?: string };
        const digests: Digest[] = [];
        if (p.sha256) digests.push({ algo: 'sha256', hex: p.sha256 });
        if (p.sha512) digests.push({ algo: 'sha512', hex: p.sha512 });
        out.push({ path: p.path, expected: { size: p.size, digests } });
      }
      if (out.length) yield out;
    }
  },
  adopt: async (m) => ({ meta: m['meta'] }),
};

export const types = new Map<string, BundleSupport>([['apt', fakeType]]);

export async function keys(): Promise<{ signer: Signer; inside: Signer; trusted: Keyring }> {
  const dir = await mkdtemp(join(tmpdir(), 'rev-keys-'));
  const signer = await loadOrCreateSigner(join(dir, 'out.asc'));
  const inside = await loadOrCreateSigner(join(dir, 'in.asc'));
  await writeFile(join(dir, 'out.pub.asc'), signer.publicKeyArmored);
  return { signer, inside, trusted: await loadKeyring([join(dir, 'out.pub.asc')]) };
}

/** Stores a package; `aliasOnly`: records the sha512 alias as a verified sha512-only download does. */
export async function storePackage(content: ContentService, data: Buffer, aliasOnly = false): Promise<void> {
  await content.storeBytes(data);
  if (aliasOnly) await content.state.set(stateKeys.alias('sha512', sha512(data)), sha256(data));
}

export function indexLine(path: string, data: Buffer, how: 'sha256' | 'sha512'): string {
  return JSON.stringify({ path, size: data.length, ...(how === 'sha256' ? { sha256: sha256(data) } : { sha512: sha512(data) }) });
}

/** Publishes a checkpoint (manifest naming `meta`) on the exporting node. */
export async function checkpoint(content: ContentService, catalogue: Catalogue, remote: string, ts: string, meta: Buffer[], signer: Signer): Promise<void> {
  const shas: string[] = [];
  for (const m of meta) shas.push((await content.storeBytes(m)).sha256);
  const manifest: CheckpointManifest = { version: 1, remote, type: 'apt', ts, createdAt: new Date().toISOString(), signer: signer.fingerprint, meta: shas };
  const blob = await content.storeBytes(Buffer.from(JSON.stringify(manifest)));
  await catalogue.publish(remote, { ts, manifest: blob.sha256, createdAt: manifest.createdAt, files: 1, bytes: 1 }, 1000);
}

/** A bundle as the real exporter writes it. */
export async function exportBundle(remote: RemoteConfig, content: ContentService, catalogue: Catalogue, signer: Signer, select: ExportSelection): Promise<Buffer> {
  const { carried, base } = await selectCheckpoints(catalogue, remote.name, select);
  const prepared = await prepareBundle({ remote, reader: fakeType, catalogue, content, signer, select }, carried, base);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writePrepared(out, prepared, content);
  out.end();
  return Buffer.concat(chunks);
}

export const source = (b: Buffer): Readable => Readable.from([b]);
export { Catalogue, silentLogger };
