import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeE2E } from '../helpers/e2e.ts';
import { YUM_TOOLS, rpmName, startYumWorld, type YumWorld } from './yum-world.ts';

const TOKEN = 'yum-token';
const PKGS = [{ name: 'steady', version: '1.0', sizeBytes: 200_000 }, { name: 'moving', version: '1.0' }];

describeE2E('yum checkpoints with real dnf: pin, republish, re-sign', YUM_TOOLS, () => {
  let w: YumWorld;
  let first: string;
  const create = async (): Promise<string> => {
    const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await res.json()) as { ts: string };
    expect(res.status, JSON.stringify(body)).toBe(201);
    return body.ts;
  };
  const mirrorKey = (): string => `${w.proxy.url}/-/keys/mirror.asc`;

  beforeAll(async () => {
    w = await startYumWorld({
      packages: PKGS,
      remote: { metadataTtl: '1s', checkpoints: { repos: ['/'], keep: 5 } },
      extra: { admin: { token: TOKEN } },
    });
  });
  afterAll(async () => w?.close());

  it('serves upstream repomd.xml unchanged with a mirror signature dnf accepts (repo_gpgcheck, gpgkey from /-/keys/mirror.asc)', async () => {
    first = await create();
    const upstreamRepomd = await (await fetch(`${w.upstream.url}/repodata/repomd.xml`)).text();
    expect(await (await fetch(`${w.base}/${first}/repodata/repomd.xml`)).text()).toBe(upstreamRepomd);
    const asc = await (await fetch(`${w.base}/${first}/repodata/repomd.xml.asc`)).text();
    expect(asc).not.toBe(await (await fetch(`${w.upstream.url}/repodata/repomd.xml.asc`)).text());
    const dnf = await w.client({ path: `${w.remote}/${first}`, gpgkey: mirrorKey() });
    const mc = await dnf.makecache();
    expect(mc.code, mc.stdout + mc.stderr).toBe(0);
    const dl = await w.download(dnf, PKGS.map((p) => p.name));
    expect(dl.code, dl.output).toBe(0);
    for (const p of w.repo.packages) expect(dl.files.get(rpmName(p))).toBe(p.sha256);
  });

  it('describes one checkpoint in the API: header and each repository\'s metadata files (issue 9)', async () => {
    const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints/${first}`);
    expect(res.status).toBe(200);
    const detail = (await res.json()) as { type: string; ts: string; url: string; repos: Array<{ dir: string; files: string[] }> };
    expect(detail).toMatchObject({ type: 'yum', ts: first, url: `${w.proxy.url}/${w.remote}/${first}/` });
    expect(detail.repos).toHaveLength(1);
    expect(detail.repos[0]?.files.some((f) => /primary\.xml/.test(f))).toBe(true);
  });

  it('keeps the old version after upstream publishes a new one; the live URL and a new checkpoint see it', async () => {
    const old = w.repo.packages.find((p) => p.name === 'moving')!;
    await w.repo.publish({ packages: [PKGS[0]!, { name: 'moving', version: '2.0' }] });
    await new Promise((r) => setTimeout(r, 1100));
    const newRpm = w.repo.packages.find((p) => p.name === 'moving')!;

    const live = await w.client();
    expect((await live.makecache()).code).toBe(0);
    const liveDl = await w.download(live, ['moving']);
    expect(liveDl.files.get(rpmName(newRpm))).toBe(newRpm.sha256);

    const pinned = await w.client({ path: `${w.remote}/${first}`, gpgkey: mirrorKey() });
    expect((await pinned.makecache()).code).toBe(0);
    const pinnedDl = await w.download(pinned, ['moving']);
    expect(pinnedDl.code, pinnedDl.output).toBe(0);
    expect(pinnedDl.files.get(rpmName(old))).toBe(old.sha256);

    const second = await create();
    const next = await w.client({ path: `${w.remote}/${second}`, gpgkey: mirrorKey() });
    expect((await next.makecache()).code).toBe(0);
    const nextDl = await w.download(next, ['moving']);
    expect(nextDl.files.get(rpmName(newRpm))).toBe(newRpm.sha256);
  });

  it('refuses an RPM that the checkpoint primary does not list', async () => {
    const newRpm = w.repo.packages.find((p) => p.name === 'moving')!;
    const res = await fetch(`${w.base}/${first}/${newRpm.location}`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe('NOT_IN_INDEX');
  });
});

describeE2E('yum checkpoints with packages: immediate', YUM_TOOLS, () => {
  let w: YumWorld;
  beforeAll(async () => {
    w = await startYumWorld({ packages: PKGS, remote: { checkpoints: { repos: ['/'], packages: 'immediate' } }, extra: { admin: { token: TOKEN } } });
  });
  afterAll(async () => w?.close());

  it('prefetches every RPM, so dnf installs from the checkpoint with the upstream stopped', async () => {
    const res = await fetch(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(201);
    const { ts } = (await res.json()) as { ts: string };
    await w.upstream.down();
    try {
      const dnf = await w.client({ path: `${w.remote}/${ts}`, gpgkey: `${w.proxy.url}/-/keys/mirror.asc` });
      const mc = await dnf.makecache();
      expect(mc.code, mc.stdout + mc.stderr).toBe(0);
      const dl = await w.download(dnf, PKGS.map((p) => p.name));
      expect(dl.code, dl.output).toBe(0);
      for (const p of w.repo.packages) expect(dl.files.get(rpmName(p))).toBe(p.sha256);
    } finally {
      await w.upstream.up();
    }
  });
});
