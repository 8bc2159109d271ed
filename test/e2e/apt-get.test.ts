import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive'];

async function downloadAll(w: AptWorld, names: string[]): Promise<Map<string, string>> {
  const client = await w.client();
  const up = await client.update();
  expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
  expect(up.code).toBe(0);
  const dir = await tempDir('repoint-dl-');
  await client.download(names, dir);
  const got = new Map<string, string>();
  for (const f of await readdir(dir)) got.set(f, await sha256File(join(dir, f)));
  return got;
}

describeE2E('real apt-get through repoint', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({ remote: { metadataTtl: '1s' } });
  });
  afterAll(async () => w?.close());

  it('updates and downloads every package, verified and cached', async () => {
    const got = await downloadAll(w, w.repo.packages.map((p) => p.name));
    for (const p of w.repo.packages) expect(got.get(debFileName(p)), p.filename).toBe(p.sha256);
    // each file came from upstream exactly once
    for (const p of w.repo.packages) expect(w.upstream.hits(`/${p.filename}`)).toBe(1);
  });

  it('serves everything from the cache with the upstream down, and says the metadata is stale', async () => {
    await w.upstream.down();
    try {
      await new Promise((r) => setTimeout(r, 1100)); // let metadataTtl lapse, so revalidation is attempted
      const got = await downloadAll(w, w.repo.packages.map((p) => p.name));
      for (const p of w.repo.packages) expect(got.get(debFileName(p))).toBe(p.sha256);
      const res = await fetch(`${w.base}/dists/${w.repo.suite}/InRelease`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-repoint-stale')).toMatch(/UPSTREAM_/);
      await res.arrayBuffer();
    } finally {
      await w.upstream.up();
    }
  });

  it('serves from the cache after a restart, without a rescan or re-download', async () => {
    await w.proxy.restart();
    await w.upstream.down();
    try {
      const got = await downloadAll(w, w.repo.packages.map((p) => p.name));
      for (const p of w.repo.packages) expect(got.get(debFileName(p))).toBe(p.sha256);
    } finally {
      await w.upstream.up();
    }
  });
});

describeE2E('apt-get with a corrupted .deb upstream', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld();
  });
  afterAll(async () => w?.close());

  it('fails the download and caches nothing bad', async () => {
    const big = w.repo.packages.find((p) => p.name === 'bigpkg')!;
    const client = await w.client();
    expect(aptProblems(await client.update())).toEqual([]);
    const fault = w.upstream.fault(`/${big.filename}`, { kind: 'flip' });
    const dir = await tempDir();
    const res = await client.download(['bigpkg'], dir, { allowFail: true });
    expect(res.code).not.toBe(0);
    // the client never received a complete body: at most a partial file (one byte is held back until verified)
    for (const f of await readdir(dir)) {
      expect((await stat(join(dir, f))).size).toBeLessThan(big.size);
      await rm(join(dir, f));
    }
    expect(fault.applied).toBeGreaterThan(0);
    // nothing was cached: with the fault gone the proxy goes upstream again and serves the real file
    fault.remove();
    const before = w.upstream.hits(`/${big.filename}`);
    await client.download(['bigpkg'], dir);
    expect(await sha256File(join(dir, debFileName(big)))).toBe(big.sha256);
    expect(w.upstream.hits(`/${big.filename}`)).toBe(before + 1);
    // and every blob in the store hashes to its name
    const verify = await run(join(process.cwd(), 'node_modules/.bin/node'), ['src/cli/main.ts', 'verify', '--config', w.proxy.configPath]);
    expect(verify.stdout).not.toMatch(/BAD/);
  });
});

describeE2E('apt-get while upstream republishes mid-update', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({ remote: { metadataTtl: '1s' } });
  });
  afterAll(async () => w?.close());

  it('gets indexes matching the InRelease it was served: no Hash Sum mismatch', async () => {
    let republished = false;
    // Upstream publishes a new Release right after the proxy fetched InRelease, before any index.
    const off = w.upstream.onRequest(async (req) => {
      if (!republished && /\/(Packages|by-hash)/.test(req.path)) {
        republished = true;
        await w.repo.publish({ packages: [{ name: 'bigpkg', version: '1.0-1', sizeBytes: 6_000_000 }, { name: 'tildepkg', version: '1.1-1' }, { name: 'allpkg', version: '2.0', arch: 'all' }] });
      }
    });
    const client = await w.client();
    const first = await client.update();
    off();
    expect(republished).toBe(true);
    expect(aptProblems(first), first.stdout + first.stderr).toEqual([]);
    expect(first.stdout + first.stderr).not.toMatch(/Hash Sum mismatch|File has unexpected size/);
    expect(await client.candidate('tildepkg')).toBe('1.0+dfsg-1~bpo12+1');
    // once the TTL lapses the proxy revalidates and the new publication shows
    await new Promise((r) => setTimeout(r, 1100));
    const second = await client.update();
    expect(aptProblems(second)).toEqual([]);
    expect(await client.candidate('tildepkg')).toBe('1.1-1');
  });
});

describeE2E('apt-get refuses untrusted metadata through repoint', TOOLS, () => {
  it('refuses an InRelease signed by a key not in the keyring', async () => {
    const { createGpgKey } = await import('../fixtures/gpg.ts');
    const other = await createGpgKey('other key');
    // the proxy trusts `other`; the repository is signed by its own fixture key
    const w = await startAptWorld({ remote: { keyring: other.publicKeyPath } });
    try {
      const res = await fetch(`${w.base}/dists/${w.repo.suite}/InRelease`);
      expect(res.status).toBe(502);
      expect(((await res.json()) as { error: string }).error).toBe('SIGNATURE_INVALID');
      const client = await w.client();
      const up = await client.update();
      expect(aptProblems(up).join('\n')).toMatch(/502|InRelease/);
      expect(await client.candidate('bigpkg')).toBeUndefined();
    } finally {
      await w.close();
    }
  });
});
