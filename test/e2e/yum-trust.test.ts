import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createGpgKey, type GpgKey } from '../fixtures/gpg.ts';
import { createDnfClient } from '../helpers/dnf-client.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy } from '../helpers/proxy.ts';
import { run } from '../helpers/run.ts';
import { YUM_TOOLS, sha256, snapshotTree, startYumWorld, type YumWorld } from './yum-world.ts';

async function errorOf(res: Response): Promise<{ status: number; error: string }> {
  return { status: res.status, error: ((await res.json()) as { error: string }).error };
}

describeE2E('repoint refuses untrusted yum metadata', YUM_TOOLS, () => {
  let w: YumWorld;
  let other: GpgKey;
  let forged: string;

  beforeAll(async () => {
    w = await startYumWorld();
    other = await createGpgKey('not the repository key');
    // the same tree, with repomd.xml.asc made by a key the remote does not trust
    forged = await snapshotTree(w.repo.root);
    const md = join(forged, 'repodata', 'repomd.xml');
    await other.gpg(['--local-user', other.fingerprint, '--armor', '--detach-sign', '--output', `${md}.asc`, md]);
  });
  afterAll(async () => {
    await w?.close();
    if (other) {
      await run('gpgconf', ['--homedir', other.home, '--kill', 'gpg-agent'], { allowFail: true });
      await rm(other.home, { recursive: true, force: true, maxRetries: 5 });
    }
    if (forged) await rm(forged, { recursive: true, force: true });
  });

  it('refuses repomd.xml.asc by an untrusted key (nothing cached): 502, and dnf makecache fails', async () => {
    w.upstream.setRoot(forged);
    try {
      expect(await errorOf(await fetch(`${w.base}/repodata/repomd.xml`))).toEqual({ status: 502, error: 'SIGNATURE_INVALID' });
      expect(w.upstream.hits('/repodata/repomd.xml.asc')).toBeGreaterThan(0);
      const mc = await (await w.client()).makecache();
      expect(mc.code).not.toBe(0);
    } finally {
      w.upstream.setRoot(w.repo.root);
    }
  });

  it('refuses a repomd.xml changed in transit or unsigned, and passes on a 404', async () => {
    const flip = w.upstream.fault('/repodata/repomd.xml', { kind: 'flip' });
    expect(await errorOf(await fetch(`${w.base}/repodata/repomd.xml`))).toEqual({ status: 502, error: 'SIGNATURE_INVALID' });
    expect(flip.applied).toBe(1);
    flip.remove();
    const gone = w.upstream.fault('/repodata/repomd.xml.asc', { kind: 'status', status: 404 });
    expect(await errorOf(await fetch(`${w.base}/repodata/repomd.xml`))).toEqual({ status: 502, error: 'SIGNATURE_MISSING' });
    gone.remove();
    const missing = w.upstream.fault('/repodata/repomd.xml', { kind: 'status', status: 404 });
    expect(await errorOf(await fetch(`${w.base}/repodata/repomd.xml`))).toEqual({ status: 404, error: 'UPSTREAM_NOT_FOUND' });
    missing.remove();
    const ok = await fetch(`${w.base}/repodata/repomd.xml`);
    expect(ok.status).toBe(200);
    await ok.arrayBuffer();
  });

  it('downloads a big uncached RPM once for 20 concurrent clients', async () => {
    const mc = await (await w.client()).makecache();
    expect(mc.code, mc.stdout + mc.stderr).toBe(0);
    const big = w.repo.packages.find((p) => p.name === 'bigpkg')!;
    expect(w.upstream.hits(`/${big.location}`)).toBe(0);
    w.upstream.setRateLimit(20e6); // ~260 ms for the body, so the requests overlap
    try {
      const bodies = await Promise.all(Array.from({ length: 20 }, async () => {
        const res = await fetch(`${w.base}/${big.location}`);
        expect(res.status).toBe(200);
        return Buffer.from(await res.arrayBuffer());
      }));
      for (const b of bodies) expect(sha256(b)).toBe(big.sha256);
      expect(w.upstream.hits(`/${big.location}`)).toBe(1);
    } finally {
      w.upstream.setRateLimit(undefined);
    }
  });

  it('without a keyring passes upstream metadata and its .asc on unchanged; strict refuses unlisted files', async () => {
    await writeFile(join(w.repo.root, 'unlisted.txt'), 'not in any metadata\n');
    const open = await fetch(`${w.base}/unlisted.txt`);
    expect(open.status).toBe(200);
    expect(open.headers.get('x-repoint-verified')).toBe('no');
    expect(await open.text()).toBe('not in any metadata\n');

    const proxy = await startProxy({ remotes: { plain: { type: 'yum', upstream: w.upstream.url, strict: true } } });
    const dnf = await createDnfClient({ repoId: 'plain', baseurl: `${proxy.url}/plain/`, gpgkey: `file://${w.key.publicKeyArmoredPath}`, repoGpgcheck: true });
    try {
      for (const name of ['repomd.xml', 'repomd.xml.asc']) {
        const res = await fetch(`${proxy.url}/plain/repodata/${name}`);
        expect(res.status, name).toBe(200);
        expect(Buffer.from(await res.arrayBuffer()).equals(await readFile(join(w.repo.root, 'repodata', name))), name).toBe(true);
      }
      expect(await errorOf(await fetch(`${proxy.url}/plain/unlisted.txt`))).toEqual({ status: 404, error: 'NOT_IN_INDEX' });
      const mc = await dnf.makecache();
      expect(mc.code, mc.stdout + mc.stderr).toBe(0);
      const plus = w.repo.packages.find((p) => p.name === 'pluspkg')!;
      const res = await fetch(`${proxy.url}/plain/${plus.location}`);
      expect(res.headers.get('etag')).toBe(`"${plus.sha256}"`);
      expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(plus.sha256);
    } finally {
      await dnf.close();
      await proxy.close();
    }
  });
});
