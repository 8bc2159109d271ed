// Indexes that list packages without sha256 (apt: SHA512 only; yum: createrepo_c --checksum sha384):
// a bundle carries those digests, the importer verifies them and records the aliases, and real apt-get
// and dnf download through the offline node. The outside node has downloaded some packages first, so
// it knows them by alias already (the case the planner once carried without their digest).
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleManifestOf, checkpointsOf, createCheckpoint, repointOk, saveKey } from '../helpers/airgap.ts';
import { aptProblems, createAptClient, type AptClient } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { createDnfClient, type DnfClient } from '../helpers/dnf-client.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { freePort } from '../helpers/ports.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { YUM_TOOLS, sha256, startYumWorld, type YumWorld } from './yum-world.ts';

const TOKEN = 'airgap-digests-token';

describeE2E('air gap (apt, SHA512-only indexes)', ['apt-get', 'gpg', 'gpgv', 'dpkg-deb', 'apt-ftparchive'], () => {
  let w: AptWorld;
  let inside: TestProxy;
  let dir: string;
  let insideKey: string;
  let first: string;
  const clients: AptClient[] = [];
  const insideClient = async (path: string): Promise<AptClient> => {
    const c = await createAptClient({ sourcesLine: `deb [signed-by=${insideKey}] ${inside.url}/${path} stable main`, options: { 'Acquire::Retries': '0' } });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    w = await startAptWorld({
      hashes: ['MD5Sum', 'SHA512'],
      packages: [{ name: 'fetched', version: '1.0-1' }, { name: 'ondemand', version: '1.0-1' }, { name: 'moving', version: '1.0-1' }],
      remote: { metadataTtl: '1s', checkpoints: { suites: ['stable'], keep: 5 } }, extra: { admin: { token: TOKEN } },
    });
    dir = await tempDir('repoint-airgap-digests-');
    const outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
    inside = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { listen: `127.0.0.1:${await freePort()}`, import: { trustedKeys: [outsideKey] } } });
    insideKey = await saveKey(inside, dir, 'inside', 'gpg');
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.cleanup()));
    await inside?.close();
    await w?.close();
  });

  it('carries each package with its SHA512, whether the outside node had it already or completed it at export', async () => {
    const apt = await w.client();
    expect(aptProblems(await apt.update())).toEqual([]);
    await apt.download(['fetched', 'moving'], await tempDir()); // stored outside, found by their sha512 alias from now on
    first = await createCheckpoint(w.proxy, w.remote, TOKEN);
    const out = join(dir, 'full.tar');
    await repointOk(['export', w.remote, '--output', out], w.proxy.configPath);
    const m = await bundleManifestOf(out);
    for (const p of w.repo.packages) {
      const entry = m.blobs.find((b) => b.sha256 === p.sha256);
      expect(entry?.sha512, p.name).toMatch(/^[0-9a-f]{128}$/);
    }
    await repointOk(['bundle', 'verify', out, '--key', join(dir, 'outside.asc')], '/nonexistent/mirror.yaml');
  });

  it('imports into the offline node; apt-get downloads every package there with the upstream stopped', async () => {
    await repointOk(['import', join(dir, 'full.tar'), '--remote', 'lab'], inside.configPath);
    await w.upstream.down();
    try {
      const apt = await insideClient(`lab/${first}`);
      expect(aptProblems(await apt.update())).toEqual([]);
      const dl = await tempDir();
      await apt.download(w.repo.packages.map((p) => p.name), dl);
      for (const p of w.repo.packages) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
    } finally {
      await w.upstream.up();
    }
  });

  it('an incremental bundle names the base packages by SHA512 too; live moves to the new package with the upstream stopped', async () => {
    await w.repo.publish({ packages: [{ name: 'fetched', version: '1.0-1' }, { name: 'ondemand', version: '1.0-1' }, { name: 'moving', version: '2.0-1' }] });
    await new Promise((r) => setTimeout(r, 1100)); // live metadataTtl
    const second = await createCheckpoint(w.proxy, w.remote, TOKEN);
    const incr = join(dir, 'incr.tar');
    await repointOk(['export', w.remote, '--since', first, '--output', incr], w.proxy.configPath);
    const m = await bundleManifestOf(incr);
    expect(m.since?.blobs.filter((b) => b.sha512).length).toBeGreaterThanOrEqual(2); // fetched, ondemand
    await repointOk(['import', incr, '--remote', 'lab'], inside.configPath);
    expect(await checkpointsOf(inside, 'lab')).toEqual([first, second]);
    await w.upstream.down();
    try {
      const apt = await insideClient('lab');
      expect(aptProblems(await apt.update())).toEqual([]);
      expect(await apt.candidate('moving')).toBe('2.0-1');
      const dl = await tempDir();
      await apt.download(w.repo.packages.map((p) => p.name), dl);
      for (const p of w.repo.packages) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
    } finally {
      await w.upstream.up();
    }
  });
});

describe('air gap (yum, sha384 primary)', () => {
  describeE2E('createrepo_c --checksum sha384', YUM_TOOLS, () => {
    let w: YumWorld;
    let inside: TestProxy;
    let dir: string;
    const clients: DnfClient[] = [];

    beforeAll(async () => {
      w = await startYumWorld({
        checksum: 'sha384', packages: [{ name: 'fetched', version: '1.0' }, { name: 'ondemand', version: '1.0' }],
        remote: { metadataTtl: '1s', checkpoints: { repos: ['/'], keep: 5 } }, extra: { admin: { token: TOKEN } },
      });
      dir = await mkdtemp(join(tmpdir(), 'repoint-airgap-sha384-'));
      const outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
      inside = await startProxy({ remotes: { lab: { type: 'yum' } }, extra: { import: { trustedKeys: [outsideKey] } } });
    });
    afterAll(async () => {
      await Promise.allSettled(clients.map((c) => c.close()));
      await inside?.close();
      await w?.close();
    });

    it('exports packages listed by sha384 (one fetched before, one completed), imports them, and dnf downloads them offline', async () => {
      const outside = await w.client();
      expect((await w.download(outside, ['fetched'])).code).toBe(0);
      const ts = await createCheckpoint(w.proxy, w.remote, TOKEN);
      const out = join(dir, 'full.tar');
      await repointOk(['export', w.remote, '--output', out], w.proxy.configPath);
      const m = await bundleManifestOf(out);
      for (const p of w.repo.packages) expect(m.blobs.find((b) => b.sha256 === p.sha256)?.sha384, p.nevra).toMatch(/^[0-9a-f]{96}$/);
      await repointOk(['import', out, '--remote', 'lab'], inside.configPath);
      expect(await checkpointsOf(inside, 'lab')).toEqual([ts]);
      await w.upstream.down();
      try {
        const c = await createDnfClient({ repoId: 'lab', baseurl: `${inside.url}/lab/${ts}/`, gpgkey: `${inside.url}/-/keys/mirror.asc`, repoGpgcheck: true, setopts: ['retries=1', 'timeout=30'] });
        clients.push(c);
        const dest = await mkdtemp(join(tmpdir(), 'repoint-airgap-sha384-dl-'));
        const r = await c.download(w.repo.packages.map((p) => p.name), dest);
        expect(r.code, r.stdout + r.stderr).toBe(0);
        const got = new Map<string, string>();
        for (const f of await readdir(dest)) got.set(f, sha256(await readFile(join(dest, f))));
        for (const p of w.repo.packages) expect(got.get(`${p.nevra}.rpm`), p.nevra).toBe(p.sha256);
      } finally {
        await w.upstream.up();
      }
    });
  });
});
