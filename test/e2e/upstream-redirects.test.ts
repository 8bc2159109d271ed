import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256 } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

const TOOLS = ['gpg', 'dpkg-deb', 'apt-ftparchive'];
const SECRET = 'internal service: TOP SECRET\n';

async function get(url: string): Promise<{ status: number; body: Buffer; json?: { error: string; message: string } }> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  const json = res.headers.get('content-type')?.startsWith('application/json') ? (JSON.parse(body.toString()) as { error: string; message: string }) : undefined;
  return { status: res.status, body, ...(json ? { json } : {}) };
}

/**
 * Issue 8, finding 1 (SSRF via redirects). Everything is on loopback, so the remotes' upstreams are
 * "private" and private targets are not refused wholesale: what is tested is the rule around that.
 * Remote `deb` has its upstream on 127.0.0.1 and redirectHosts [localhost]: `localhost` resolves to
 * 127.0.0.1, the upstream's own address, so a verified file may follow it there (to the "CDN", a
 * second server on another port). Remote `far` has the same redirectHosts but its upstream on
 * 127.0.0.2: the same redirect to `localhost` must be refused when connecting, because the name
 * resolves to a loopback address that is not the upstream's own (the machine's other services).
 */
describeE2E('upstream redirects (issue 8, finding 1)', TOOLS, () => {
  let repo: AptRepo;
  let up: Upstream;
  let far: Upstream;
  let cdn: Upstream;
  let secret: Upstream;
  let proxy: TestProxy;
  const deb = (name: string) => repo.packages.find((p) => p.name === name)!;

  beforeAll(async () => {
    const key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [
      { name: 'viacdn', version: '1.0-1', sizeBytes: 300_000 },
      { name: 'flipped', version: '1.0-1', sizeBytes: 100_000 },
      { name: 'faraway', version: '1.0-1', sizeBytes: 50_000 },
    ] });
    await writeFile(join(repo.root, 'README.mirror'), 'not listed in any index\n');
    const secretRoot = await mkdtemp(join(tmpdir(), 'repoint-secret-'));
    await writeFile(join(secretRoot, 'secret.txt'), SECRET);
    up = await startUpstream({ root: repo.root });
    far = await startUpstream({ root: repo.root, host: '127.0.0.2' });
    cdn = await startUpstream({ root: repo.root });
    secret = await startUpstream({ root: secretRoot });
    proxy = await startProxy({ remotes: {
      deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, redirectHosts: ['localhost'] },
      far: { type: 'apt', upstream: far.url, keyring: key.publicKeyPath, redirectHosts: ['localhost', '127.0.0.1'] },
    } });
    for (const remote of ['deb', 'far']) {
      expect((await get(`${proxy.url}/${remote}/dists/${repo.suite}/InRelease`)).status).toBe(200);
      expect((await get(`${proxy.url}/${remote}/dists/${repo.suite}/main/binary-amd64/Packages.xz`)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([up, far, cdn, secret].map((u) => u?.stop()));
  });

  it('refuses an unlisted path redirected to another loopback server holding a secret; the secret server is never asked', async () => {
    up.fault('/README.mirror', { kind: 'redirect', location: `http://127.0.0.1:${secret.port}/secret.txt`, times: 1 });
    const r = await get(`${proxy.url}/deb/README.mirror`);
    expect(r.status).toBe(502);
    expect(r.json?.error).toBe('UPSTREAM_REDIRECT_REFUSED');
    expect(r.body.toString()).not.toContain('TOP SECRET');
    expect(secret.requests).toHaveLength(0);
  });

  it('refuses pass-through content leaving the origin even for a host in redirectHosts', async () => {
    up.fault('/README.mirror', { kind: 'redirect', location: `http://localhost:${cdn.port}/README.mirror`, times: 1 });
    const r = await get(`${proxy.url}/deb/README.mirror`);
    expect([r.status, r.json?.error]).toEqual([502, 'UPSTREAM_REDIRECT_REFUSED']);
    expect(r.json?.message).toMatch(/same-origin redirects only/);
    expect(cdn.hits('/README.mirror')).toBe(0);
  });

  it('refuses a verified .deb redirected to a host not in redirectHosts, naming the key that allows it', async () => {
    const path = `/${deb('viacdn').filename}`;
    up.fault(path, { kind: 'redirect', location: `http://127.0.0.1:${cdn.port}${path}`, times: 1 });
    const r = await get(`${proxy.url}/deb${path}`);
    expect([r.status, r.json?.error]).toEqual([502, 'UPSTREAM_REDIRECT_REFUSED']);
    expect(r.json?.message).toContain('remotes.deb.redirectHosts');
    expect(cdn.hits(path)).toBe(0);
  });

  it('follows a verified .deb to a host in redirectHosts, and checks its digest there', async () => {
    const path = `/${deb('viacdn').filename}`;
    up.fault(path, { kind: 'redirect', location: `http://localhost:${cdn.port}${path}`, times: 1 });
    const r = await get(`${proxy.url}/deb${path}`);
    expect(r.status).toBe(200);
    expect(sha256(r.body)).toBe(deb('viacdn').sha256);
    expect(cdn.hits(path)).toBe(1);

    const bad = `/${deb('flipped').filename}`;
    up.fault(bad, { kind: 'redirect', location: `http://localhost:${cdn.port}${bad}`, times: 1 });
    cdn.fault(bad, { kind: 'flip', times: 1 });
    await expect(get(`${proxy.url}/deb${bad}`)).rejects.toThrow(); // reset: never a complete body that failed verification
    const again = await get(`${proxy.url}/deb${bad}`); // nothing was stored: fetched again, directly
    expect(sha256(again.body)).toBe(deb('flipped').sha256);
    expect(cdn.hits(bad)).toBe(1);
  });

  it('refuses file: and ftp: Locations', async () => {
    for (const location of ['file:///etc/passwd', `ftp://127.0.0.1:${secret.port}/secret.txt`]) {
      up.fault('/README.mirror', { kind: 'redirect', location, times: 1 });
      const r = await get(`${proxy.url}/deb/README.mirror`);
      expect([r.status, r.json?.error], location).toEqual([502, 'UPSTREAM_REDIRECT_REFUSED']);
      expect(r.json?.message).toMatch(/only http\(s\) redirects are followed/);
    }
  });

  it('follows same-origin redirects, at most 5 hops', async () => {
    up.fault('/old/README', { kind: 'redirect', location: '/README.mirror', status: 301, times: 1 });
    const ok = await get(`${proxy.url}/deb/old/README`);
    expect([ok.status, ok.body.toString()]).toEqual([200, 'not listed in any index\n']);
    up.resetCounters();
    const loop = up.fault('/loop', { kind: 'redirect', location: '/loop' });
    try {
      const r = await get(`${proxy.url}/deb/loop`);
      expect([r.status, r.json?.error]).toEqual([502, 'UPSTREAM_REDIRECT_REFUSED']);
      expect(up.hits('/loop')).toBe(6); // the request and 5 followed hops
    } finally {
      loop.remove();
    }
  });

  it('checks the address when connecting: a redirectHosts name resolving to loopback is refused for an upstream on another address', async () => {
    const path = `/${deb('faraway').filename}`;
    far.fault(path, { kind: 'redirect', location: `http://localhost:${cdn.port}${path}`, times: 1 });
    const byName = await get(`${proxy.url}/far${path}`);
    expect([byName.status, byName.json?.error]).toEqual([502, 'UPSTREAM_REDIRECT_REFUSED']);
    expect(byName.json?.message).toMatch(/host localhost, which is a name resolving to a loopback address/);
    far.fault(path, { kind: 'redirect', location: `http://127.0.0.1:${cdn.port}${path}`, times: 1 });
    const byAddress = await get(`${proxy.url}/far${path}`);
    expect([byAddress.status, byAddress.json?.error]).toEqual([502, 'UPSTREAM_REDIRECT_REFUSED']);
    expect(byAddress.json?.message).toMatch(/host 127\.0\.0\.1, which is a loopback address/);
    expect(cdn.hits(path)).toBe(0); // never connected
    const direct = await get(`${proxy.url}/far${path}`);
    expect(sha256(direct.body)).toBe(deb('faraway').sha256);
  });
});
