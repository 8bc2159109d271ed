import { utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256, startAptWorld, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';

describeE2E('automatic gc keeps the store within cache.maxSize while serving', ['gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({
      packages: ['old', 'mid', 'new'].map((name) => ({ name, version: '1', sizeBytes: 450_000 })),
      extra: { cache: { maxSize: '1MiB', gcInterval: '1s' } },
    });
  });
  afterAll(async () => w?.close());

  it('removes least recently used blobs first until the store fits, and they come back verified on demand', async () => {
    const blobs = w.proxy.running.runtime.content.blobs;
    await (await fetch(`${w.base}/dists/stable/InRelease`)).text();
    await (await fetch(`${w.base}/dists/stable/main/binary-amd64/Packages.xz`)).arrayBuffer();
    const pkg = (n: string) => w.repo.packages.find((p) => p.name === n)!;
    for (const n of ['old', 'mid', 'new']) await (await fetch(`${w.base}/${pkg(n).filename}`)).arrayBuffer();
    const anHourAgo = new Date(Date.now() - 3600_000);
    const old = pkg('old').sha256; // the fs layout, computed here: the store hands out no paths
    await utimes(join(w.proxy.dataDir, 'blobs/sha256', old.slice(0, 2), old.slice(2, 4), old), anHourAgo, anHourAgo);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (await blobs.totals()).bytes > 2 ** 20) await new Promise((r) => setTimeout(r, 200));
    expect((await blobs.totals()).bytes).toBeLessThanOrEqual(2 ** 20);
    expect(await blobs.stat(pkg('old').sha256)).toBeUndefined(); // least recently used went first
    const again = await fetch(`${w.base}/${pkg('old').filename}`);
    expect(sha256(Buffer.from(await again.arrayBuffer()))).toBe(pkg('old').sha256);
    expect(w.upstream.hits(`/${pkg('old').filename}`)).toBe(2);
  });
});
