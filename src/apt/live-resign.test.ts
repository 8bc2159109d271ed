import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { withHotCache } from '../blobs/hot-cache.ts';
import { MemoryBlobStore } from '../blobs/memory-blob-store.ts';
import { silentLogger } from '../log.ts';
import { ContentService } from '../serve/content.ts';
import { openMemoryState } from '../state/memory-state.ts';
import { loadOrCreateSigner, type Signer } from '../trust/signer.ts';
import { buildReleaseText } from '../../test/fixtures/release-fixture.ts';
import { parseRelease } from './formats/release.ts';
import { LiveResigner } from './live-resign.ts';

const TEXT = buildReleaseText([{ path: 'main/binary-amd64/Packages', content: 'Package: a\n' }]);

/** A signer that counts its signatures. */
function counting(signer: Signer): { signer: Signer; count: () => number } {
  let n = 0;
  return {
    count: () => n,
    signer: {
      ...signer,
      fingerprint: signer.fingerprint,
      clearsign: (t) => { n++; return signer.clearsign(t); },
      detachSignArmored: (d) => { n++; return signer.detachSignArmored(d); },
    },
  };
}

describe('LiveResigner (issue 9: re-sign once per verified text)', () => {
  let base: Signer;
  beforeAll(async () => {
    base = await loadOrCreateSigner(join(await mkdtemp(join(tmpdir(), 'repoint-resign-')), 'mirror.asc'));
  });

  async function setup() {
    const content = new ContentService(withHotCache(new MemoryBlobStore()), openMemoryState(), silentLogger);
    const text = await content.storeBytes(Buffer.from(TEXT));
    const c = counting(base);
    let url = 'http://mirror.test/deb/@SNAPSHOTID@/';
    const resigner = new LiveResigner({ content, signer: c.signer, log: silentLogger, snapshotsUrl: () => url, parsed: async () => parseRelease(TEXT) });
    return { content, text: text.sha256, resigner, count: c.count, setUrl: (u: string) => { url = u; } };
  }

  it('signs once for concurrent and later requests of the same text', async () => {
    const s = await setup();
    const [a, b] = await Promise.all([s.resigner.outputs(s.text), s.resigner.outputs(s.text)]);
    expect(a).toEqual(b);
    expect(await s.resigner.outputs(s.text)).toEqual(a);
    expect(s.count()).toBe(2); // one clearsign, one detached signature
    const release = (await s.content.blobs.readAll(a.release)).toString();
    expect(release).toContain('Snapshots: http://mirror.test/deb/@SNAPSHOTID@/\n');
    expect(release).not.toContain('Signed-By');
    expect(release).toContain('Valid-Until: Sat, 17 Jun 2023 08:52:18 UTC\n');
  });

  it('signs again when its blobs are gone, or the Snapshots URL changed', async () => {
    const s = await setup();
    const a = await s.resigner.outputs(s.text);
    await s.content.blobs.delete(a.inRelease);
    const b = await s.resigner.outputs(s.text);
    expect(s.count()).toBe(4);
    expect(b.release).toBe(a.release); // the Release text is a function of the verified text
    s.setUrl('http://other.test/deb/@SNAPSHOTID@/');
    const c = await s.resigner.outputs(s.text);
    expect(c.release).not.toBe(a.release);
    expect(s.count()).toBe(6);
  });
});
