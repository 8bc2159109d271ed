import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';
import { YUM_PACKAGES, YUM_TOOLS, rpmName, snapshotTree, startYumWorld, type YumWorld } from './yum-world.ts';

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describeE2E('real dnf through repoint', YUM_TOOLS, () => {
  let w: YumWorld;
  let firstGeneration: string;
  const names = YUM_PACKAGES.map((p) => p.name);

  beforeAll(async () => {
    w = await startYumWorld({ remote: { metadataTtl: '1s' } });
    firstGeneration = await snapshotTree(w.repo.root);
  });
  afterAll(async () => {
    await w?.close();
    if (firstGeneration) await rm(firstGeneration, { recursive: true, force: true });
  });

  it('makecache and download every package, verified and fetched from upstream once', async () => {
    const client = await w.client();
    const mc = await client.makecache();
    expect(mc.code, mc.stdout + mc.stderr).toBe(0);
    const dl = await w.download(client, names);
    expect(dl.code, dl.output).toBe(0);
    for (const p of w.repo.packages) expect(dl.files.get(rpmName(p)), p.nevra).toBe(p.sha256);
    for (const p of w.repo.packages) expect(w.upstream.hits(`/${p.location}`), p.location).toBe(1);
    for (const p of w.repo.packages) {
      const head = await fetch(`${w.base}/${p.location}`, { method: 'HEAD' });
      expect(head.headers.get('etag'), 'served as verified content').toBe(`"${p.sha256}"`);
      expect(head.headers.get('cache-control')).toMatch(/immutable/);
      expect(head.headers.get('x-repoint-verified')).toBeNull();
    }
    // every data file once; repomd.xml again only as a conditional revalidation (TTL is 1s)
    const counts = new Map<string, number>();
    for (const r of w.upstream.requests) counts.set(r.path, (counts.get(r.path) ?? 0) + 1);
    for (const [path, n] of counts) if (!path.endsWith('/repomd.xml') && !path.endsWith('/repomd.xml.asc')) expect(n, path).toBe(1);
    const revalidations = w.upstream.requests.filter((r) => r.path === '/repodata/repomd.xml').slice(1);
    for (const r of revalidations) expect(r.ifModifiedSince ?? r.ifNoneMatch, 'conditional revalidation').toBeDefined();
    expect((await w.repomd()).data.some((d) => d.type === 'primary' && counts.get(`/${d.location}`) === 1)).toBe(true);
  });

  it('serves makecache and downloads from the cache with upstream down, marked stale', async () => {
    await w.upstream.down();
    try {
      await wait(1100); // let metadataTtl lapse so a revalidation is attempted and fails
      const client = await w.client();
      const mc = await client.makecache();
      expect(mc.code, mc.stdout + mc.stderr).toBe(0);
      const dl = await w.download(client, names);
      expect(dl.code, dl.output).toBe(0);
      for (const p of w.repo.packages) expect(dl.files.get(rpmName(p))).toBe(p.sha256);
      const res = await fetch(`${w.base}/repodata/repomd.xml`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-repoint-stale')).toMatch(/^UPSTREAM_/);
      expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(w.repo.root, 'repodata/repomd.xml')))).toBe(true);
    } finally {
      await w.upstream.up();
    }
  });

  it('fails a corrupted RPM download and caches nothing bad', async () => {
    await w.repo.publish({ packages: [...YUM_PACKAGES, { name: 'newpkg', version: '1.0', sizeBytes: 300_000 }] });
    await wait(1100);
    const fresh = w.repo.packages.find((p) => p.name === 'newpkg')!;
    const fault = w.upstream.fault(`/${fresh.location}`, { kind: 'flip' });
    const client = await w.client();
    expect((await client.makecache()).code).toBe(0);
    const bad = await w.download(client, ['newpkg']);
    expect(bad.code).not.toBe(0);
    expect(bad.files.get(rpmName(fresh))).toBeUndefined();
    expect(fault.applied).toBeGreaterThan(0);
    // a direct request never completes a body either: the connection is cut before the last byte
    const direct = await fetch(`${w.base}/${fresh.location}`).then((r) => r.arrayBuffer()).then(() => 'complete', () => 'cut');
    expect(direct).toBe('cut');

    fault.remove();
    const before = w.upstream.hits(`/${fresh.location}`);
    const good = await w.download(client, ['newpkg']);
    expect(good.code, good.output).toBe(0);
    expect(good.files.get(rpmName(fresh))).toBe(fresh.sha256);
    expect(w.upstream.hits(`/${fresh.location}`)).toBe(before + 1);
    const verify = await run(join(process.cwd(), 'node_modules/.bin/node'), ['src/cli/main.ts', 'verify', '--config', w.proxy.configPath]);
    expect(verify.stdout).not.toMatch(/BAD/);
  });

  it('refuses a rollback to an older repomd and keeps serving the newer one, marked stale', async () => {
    const current = await readFile(join(w.repo.root, 'repodata/repomd.xml'));
    const older = await readFile(join(firstGeneration, 'repodata/repomd.xml'));
    expect(older.equals(current)).toBe(false);
    w.upstream.setRoot(firstGeneration); // validly signed, but an earlier revision
    try {
      await wait(1100);
      const res = await fetch(`${w.base}/repodata/repomd.xml`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-repoint-stale')).toBe('METADATA_ROLLBACK');
      expect(Buffer.from(await res.arrayBuffer()).equals(current)).toBe(true);
      expect(w.upstream.requests.at(-1)?.path).toBe('/repodata/repomd.xml.asc'); // it was fetched and verified, then refused
      // dnf still sees the newer generation, newpkg included
      const client = await w.client();
      const dl = await w.download(client, ['newpkg']);
      expect(dl.code, dl.output).toBe(0);
    } finally {
      w.upstream.setRoot(w.repo.root);
    }
  });
});
