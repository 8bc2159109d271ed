import type { Readable } from 'node:stream';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { parseManifest } from '../checkpoints/manifest.ts';
import { RepointError } from '../errors.ts';
import { openMemoryState } from '../state/memory-state.ts';
import type { Keyring } from '../trust/keyring.ts';
import type { BundleManifest } from './bundle-manifest.ts';
import { readBundle } from './bundle-reader.ts';
import type { BundleSupport } from './bundle-support.ts';
import { checkComplete, checkedManifest } from './completeness.ts';
import { altDigestsOfRef } from './alt-digests.ts';

export interface VerifyResult {
  manifest: BundleManifest;
  signers: string[];
  /** Packages the carried indexes list (all checked). */
  packages: number;
}

/**
 * `repoint bundle verify`: the signature, every blob's sha256 and size, and completeness, without a
 * store. Checkpoint manifests and their metadata (which the writer puts first) are kept in memory to
 * read the indexes; a package must be carried, or listed as provided by the base. Indexes only the base
 * has are not read here: the importing node checks those against its store.
 */
export async function verifyBundle(source: Readable, trusted: Keyring, types: ReadonlyMap<string, BundleSupport>): Promise<VerifyResult> {
  const memory = new MemoryBlobStore();
  const keep = new Set<string>();
  const manifests = new Set<string>();
  let reader: BundleSupport | undefined;
  let signers: string[] = [];
  let bundle: BundleManifest | undefined;
  const manifest = await readBundle(source, {
    trusted,
    onManifest: async (m, s) => {
      bundle = m;
      signers = [...s];
      reader = types.get(m.remote.type);
      if (!reader) throw new RepointError('BUNDLE_INVALID', `the bundle carries ${m.remote.type} checkpoints, which this build does not know`);
      for (const c of m.checkpoints) {
        keep.add(c.manifest);
        manifests.add(c.manifest);
      }
    },
    target: async (ref) => {
      if (!keep.has(ref.sha256)) return undefined;
      const w = await memory.createWriter();
      return {
        write: (chunk) => w.write(chunk),
        abort: () => w.abort(),
        commit: async () => {
          await w.commit();
          if (!manifests.has(ref.sha256) || !reader || !bundle) return;
          const m = checkedManifest(parseManifest((await memory.readAll(ref.sha256)).toString('utf8'), ref.sha256), ref.sha256, bundle, reader);
          for (const sha of reader.storedMetadataBlobs(m)) keep.add(sha);
        },
      };
    },
  });
  // metadata is kept only when it comes after the manifest naming it (§2 "Order of blobs"): one that
  // came before was dropped, and its packages would go unchecked
  for (const b of manifest.blobs) {
    if (keep.has(b.sha256) && !(await memory.stat(b.sha256))) {
      throw new RepointError('BUNDLE_INVALID', `the bundle lists metadata blob ${b.sha256} before the checkpoint manifest that names it; bundle verify needs the writers' order (manifests, then metadata, then packages)`);
    }
  }
  const listed = [...manifest.blobs, ...(manifest.since?.blobs ?? [])];
  const sizes = new Map(listed.map((b) => [b.sha256, b.size]));
  const available = new Set(sizes.keys());
  // entries listed without sha256: by the other digests the bundle verified (or, for the base, names)
  const byAlt = new Map<string, string>(listed.flatMap((b) => altDigestsOfRef(b).map((d) => [`${d.algo}:${d.hex}`, b.sha256] as const)));
  // as the importer judges it: the blob a package resolves to, at the size its index lists
  const resolve = (d: { algo: string; hex: string }): string | undefined => (d.algo === 'sha256' ? d.hex.toLowerCase() : byAlt.get(`${d.algo}:${d.hex.toLowerCase()}`));
  const packages = await checkComplete({
    bundle: manifest, reader: reader!, blobs: memory, state: openMemoryState(), upstreams: [],
    hasBlob: async (sha) => available.has(sha),
    has: async (expected) => expected.digests.some((d) => {
      const size = sizes.get(resolve(d) ?? '');
      return size !== undefined && (expected.size === undefined || size === expected.size);
    }),
  });
  return { manifest, signers, packages };
}
