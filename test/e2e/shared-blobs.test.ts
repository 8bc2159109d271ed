import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256 } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

describeE2E('two remotes sharing blobs', ['gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let repo: AptRepo;
  let up: Upstream;
  let proxy: TestProxy;
  beforeAll(async () => {
    const key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'big', version: '1', sizeBytes: 3_000_000 }] });
    up = await startUpstream({ root: repo.root });
    const remote = { type: 'apt', upstream: up.url, keyring: key.publicKeyPath };
    proxy = await startProxy({ remotes: { one: remote, two: { ...remote, strict: true } } });
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.stop();
  });

  it('stores identical files once, and an index already cached by another remote still covers pool paths', async () => {
    for (const r of ['one', 'two']) {
      expect((await fetch(`${proxy.url}/${r}/dists/stable/InRelease`)).status).toBe(200);
      const idx = await fetch(`${proxy.url}/${r}/dists/stable/main/binary-amd64/Packages.xz`);
      expect(idx.status).toBe(200);
      await idx.arrayBuffer();
    }
    expect(up.hitsMatching(/binary-amd64\/(by-hash|Packages)/)).toBe(1); // the second remote's index was a cache hit
    const big = repo.packages[0]!;
    up.setRateLimit(10_000_000);
    try {
      // remote "two" is strict: this only succeeds if its (memory-served) index was ingested
      const bodies = await Promise.all(Array.from({ length: 10 }, async () => {
        const r = await fetch(`${proxy.url}/two/${big.filename}`);
        expect(r.status).toBe(200);
        return Buffer.from(await r.arrayBuffer());
      }));
      for (const b of bodies) expect(sha256(b)).toBe(big.sha256);
    } finally {
      up.setRateLimit(undefined);
    }
    expect(up.hits(`/${big.filename}`)).toBe(1);
    const one = await fetch(`${proxy.url}/one/${big.filename}`);
    expect(sha256(Buffer.from(await one.arrayBuffer()))).toBe(big.sha256);
    expect(up.hits(`/${big.filename}`)).toBe(1);
  });
});
