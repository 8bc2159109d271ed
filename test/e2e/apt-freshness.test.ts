import { afterEach, expect, it } from 'vitest';
import { startAptWorld, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';

const TOOLS = ['gpg', 'dpkg-deb', 'apt-ftparchive'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeE2E('InRelease freshness and metadata policy', TOOLS, () => {
  let w: AptWorld | undefined;
  afterEach(async () => { await w?.close(); w = undefined; });
  const inrelease = (world: AptWorld) => `${world.base}/dists/${world.repo.suite}/InRelease`;

  it('serves from the cache within metadataTtl, then revalidates with a conditional request', async () => {
    w = await startAptWorld({ packages: [{ name: 'a', version: '1' }], remote: { metadataTtl: '1s' } });
    const first = await fetch(inrelease(w));
    const body = await first.text();
    await (await fetch(inrelease(w))).text();
    expect(w.upstream.hits(`/dists/${w.repo.suite}/InRelease`)).toBe(1);
    await sleep(1100);
    const again = await fetch(inrelease(w));
    expect(await again.text()).toBe(body);
    const reqs = w.upstream.requests.filter((r) => r.path === `/dists/${w!.repo.suite}/InRelease`);
    expect(reqs).toHaveLength(2);
    expect(reqs[1]!.ifModifiedSince).toBeDefined();
    expect(reqs[1]!.status).toBe(304);
    expect(again.headers.get('x-repoint-stale')).toBeNull();
  });

  it('refuses an InRelease dated before the verified one, and keeps serving that one', async () => {
    w = await startAptWorld({ packages: [{ name: 'a', version: '1' }], remote: { metadataTtl: '1s' } });
    const good = await (await fetch(inrelease(w))).text();
    // a mirror that went back in time: a correctly signed Release with an older Date
    await w.repo.publish({ packages: [{ name: 'a', version: '0.9' }], date: new Date(w.repo.date.getTime() - 86_400_000) });
    await sleep(1100);
    const res = await fetch(inrelease(w));
    expect(await res.text()).toBe(good);
    expect(res.headers.get('x-repoint-stale')).toBe('METADATA_ROLLBACK');
  });

  it('refuses an upstream InRelease whose Valid-Until has passed', async () => {
    w = await startAptWorld({ packages: [{ name: 'a', version: '1' }] });
    await w.repo.publish({ packages: [{ name: 'a', version: '1' }], validUntil: new Date(Date.now() - 3600_000) });
    const res = await fetch(inrelease(w));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toBe('METADATA_EXPIRED');
  });

  it('refuses a tampered InRelease (signature no longer matches the text)', async () => {
    w = await startAptWorld({ packages: [{ name: 'a', version: '1' }] });
    const { readFile, writeFile } = await import('node:fs/promises');
    const file = `${w.repo.distDir}/InRelease`;
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace(/^Suite: (\S+)$/m, 'Suite: $1x'));
    const res = await fetch(inrelease(w));
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toBe('SIGNATURE_INVALID');
  });

  it('falls back to Release + Release.gpg when upstream has no InRelease', async () => {
    w = await startAptWorld({ packages: [{ name: 'a', version: '1' }] });
    const { rm } = await import('node:fs/promises');
    await rm(`${w.repo.distDir}/InRelease`);
    expect((await fetch(inrelease(w))).status).toBe(404);
    const rel = await fetch(`${w.base}/dists/${w.repo.suite}/Release`);
    expect(rel.status).toBe(200);
    await rel.arrayBuffer();
    const sig = await fetch(`${w.base}/dists/${w.repo.suite}/Release.gpg`);
    expect(sig.status).toBe(200);
    expect(await sig.text()).toMatch(/BEGIN PGP SIGNATURE/);
    const idx = await fetch(`${w.base}/dists/${w.repo.suite}/main/binary-amd64/Packages.xz`);
    expect(idx.status).toBe(200);
    expect(idx.headers.get('x-repoint-verified')).toBeNull();
    await idx.arrayBuffer();
  });
});
