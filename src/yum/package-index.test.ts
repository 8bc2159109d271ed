import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../blobs/fs-blob-store.ts';
import { withHotCache } from '../blobs/hot-cache.ts';
import { silentLogger } from '../log.ts';
import { ContentService } from '../serve/content.ts';
import { PackageIndex } from './package-index.ts';
import { openSqliteState } from '../state/open-state.ts';
import type { StateStore } from '../state/state-store.ts';

const hex = (algo: string, seed: string): string => createHash(algo).update(seed).digest('hex');

function pkg(name: string, location: string, algo: 'sha256' | 'sha512' | 'sha1' | 'md5', base?: string): string {
  return `<package type="rpm"><name>${name}</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/>
  <checksum type="${algo}" pkgid="YES">${hex(algo, name)}</checksum><size package="${name.length * 100}" installed="1" archive="1"/>
  <location${base ? ` xml:base="${base}"` : ''} href="${location}"/></package>\n`;
}

const PRIMARY = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="6">
${pkg('plain', 'Packages/p/plain.rpm', 'sha256')}${pkg('based', 'b/based.rpm', 'sha512', 'http://127.0.0.1:9/base/extra/')}${pkg('relative', 'r.rpm', 'sha256', 'sub')}${pkg('foreign', 'f.rpm', 'sha256', 'http://127.0.0.9/elsewhere/')}${pkg('weak', 'w.rpm', 'sha1')}${pkg('escape', '../../escape.rpm', 'sha256')}</metadata>
`;

describe('PackageIndex over a real blob and state store', () => {
  let dir: string;
  let state: StateStore;
  let content: ContentService;
  let index: PackageIndex;
  let blobStore: FsBlobStore | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'repoint-pkgidx-'));
    state = openSqliteState(join(dir, 'state.sqlite'));
    blobStore = await FsBlobStore.open(join(dir, 'blobs'));
    const blobs = withHotCache(blobStore);
    content = new ContentService(blobs, state, silentLogger);
    index = new PackageIndex('el', ['http://127.0.0.1:9/base'], state, blobs, silentLogger);
  });
  afterAll(async () => {
    await state?.close();
    await blobStore?.close(); // its start-up recount may still be writing totals.json
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('indexes servable packages by remote path and skips the rest', async () => {
    const gz = gzipSync(PRIMARY);
    const blob = await content.storeBytes(gz);
    const ref = { sha256: blob.sha256, dir: 'os', location: 'repodata/x-primary.xml.gz' };
    expect(await index.isLive(ref)).toBe(false);
    await index.ingest(ref, true);
    expect(await index.isLive(ref)).toBe(true);

    expect(await index.lookup('os/Packages/p/plain.rpm')).toEqual({ size: 500, digests: [{ algo: 'sha256', hex: hex('sha256', 'plain') }] });
    expect(await index.lookup('extra/b/based.rpm')).toEqual({ size: 500, digests: [{ algo: 'sha512', hex: hex('sha512', 'based') }] });
    expect(await index.lookup('os/sub/r.rpm')).toEqual({ size: 800, digests: [{ algo: 'sha256', hex: hex('sha256', 'relative') }] });
    for (const p of ['os/f.rpm', 'f.rpm', 'elsewhere/f.rpm', 'os/w.rpm', 'escape.rpm', 'os/../../escape.rpm']) expect(await index.lookup(p), p).toBeUndefined();
  });

  it('lets a newer primary win for a path republished with new bytes, keeping the old records for checkpoints', async () => {
    const primaryWith = (algo: 'sha256' | 'sha512') => `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" packages="1">${pkg('same', 'Packages/s/same.rpm', algo)}</metadata>\n`;
    const first = await content.storeBytes(gzipSync(primaryWith('sha256')));
    const second = await content.storeBytes(gzipSync(primaryWith('sha512')));
    const ref = (sha: string) => ({ sha256: sha, dir: 're', location: `repodata/${sha}-primary.xml.gz` });
    await index.ingest(ref(first.sha256), true);
    expect(await index.lookup('re/Packages/s/same.rpm')).toEqual({ size: 400, digests: [{ algo: 'sha256', hex: hex('sha256', 'same') }] });
    await index.ingest(ref(second.sha256), true);
    expect(await index.lookup('re/Packages/s/same.rpm')).toEqual({ size: 400, digests: [{ algo: 'sha512', hex: hex('sha512', 'same') }] });
    expect(await index.lookup('re/Packages/s/same.rpm', [ref(first.sha256)])).toEqual({ size: 400, digests: [{ algo: 'sha256', hex: hex('sha256', 'same') }] });
  });

  it('refuses a broken primary and does not list it', async () => {
    const blob = await content.storeBytes(gzipSync('<metadata xmlns="http://linux.duke.edu/metadata/common"><package>'));
    const ref = { sha256: blob.sha256, dir: 'os', location: 'repodata/y-primary.xml.gz' };
    await expect(index.ingest(ref, true)).rejects.toThrow();
    expect(await index.isLive(ref)).toBe(false);
    const zck = { sha256: blob.sha256, dir: 'os2', location: 'repodata/z-primary.xml.zck' };
    await expect(index.ingest(zck, true)).rejects.toMatchObject({ code: 'METADATA_INVALID' });
    expect(await index.isLive(zck)).toBe(false);
  });

  it('finding 2: stops a primary at the open-size repomd declares (a signed bomb), and does not list it', async () => {
    const big = `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common">${Array.from({ length: 500 }, (_, i) => pkg(`p${i}`, `Packages/p${i}.rpm`, 'sha256')).join('')}</metadata>\n`;
    const blob = await content.storeBytes(gzipSync(big));
    const ref = { sha256: blob.sha256, dir: 'bomb', location: 'repodata/b-primary.xml.gz', openSize: 4096 };
    await expect(index.ingest(ref, true)).rejects.toMatchObject({ code: 'METADATA_TOO_LARGE' });
    expect(await index.isLive(ref)).toBe(false);
    const capped = new PackageIndex('el', [], state, content.blobs, silentLogger, { indexMaxBytes: 4096, indexLineMax: 2 ** 20 });
    const undeclared = { sha256: blob.sha256, dir: 'bomb2', location: 'repodata/b-primary.xml.gz' };
    await expect(capped.ingest(undeclared, true)).rejects.toMatchObject({ code: 'METADATA_TOO_LARGE' });
  });
});
