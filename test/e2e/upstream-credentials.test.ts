import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey, type GpgKey } from '../fixtures/gpg.ts';
import { aptProblems, createAptClient } from '../helpers/apt-client.ts';
import { debFileName, sha256, sha256File, tempDir } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { createTestPki, type TestPki } from '../helpers/tls-pki.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

const TOOLS = ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive', 'openssl'];
const USER = 'mirror-user';
const PASSWORD = 'Sup3r-S3cret-Pw';
const TOKEN = 'tok-0123456789abcdef';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

/** Issue 8, finding 8: upstream credentials and client certificates are used, and never shown. */
describeE2E('upstream credentials and client certificates (issue 8, finding 8)', TOOLS, () => {
  let key: GpgKey;
  let repo: AptRepo;
  let basicUp: Upstream;
  let bearerUp: Upstream;
  let cdn: Upstream;
  let proxy: TestProxy;
  const lines: string[] = [];
  const pkg = () => repo.packages[0]!;

  beforeAll(async () => {
    key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'vendor', version: '1.0-1', sizeBytes: 200_000 }, { name: 'other', version: '2' }] });
    await writeFile(join(repo.root, 'README.mirror'), 'unlisted\n');
    basicUp = await startUpstream({ root: repo.root });
    basicUp.setAuth({ basic: { username: USER, password: PASSWORD } });
    bearerUp = await startUpstream({ root: repo.root });
    bearerUp.setAuth({ bearer: TOKEN });
    cdn = await startUpstream({ root: repo.root });
    const tokenFile = join(await tempDir(), 'vendor.token');
    await writeFile(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const wrongKey = await createGpgKey('not the archive key');
    proxy = await startProxy({
      log: createLogger('debug', {}, (l) => lines.push(l)),
      remotes: {
        basic: { type: 'apt', upstream: basicUp.url.replace('http://', `http://${USER}:${PASSWORD}@`), keyring: key.publicKeyPath, redirectHosts: ['localhost'] },
        bearer: { type: 'apt', upstream: bearerUp.url, keyring: key.publicKeyPath, auth: { type: 'bearer', tokenFile } },
        nologin: { type: 'apt', upstream: bearerUp.url, keyring: key.publicKeyPath },
        wrongkey: { type: 'apt', upstream: cdn.url, keyring: wrongKey.publicKeyPath },
      },
    });
  });
  afterAll(async () => {
    await proxy?.close();
    await Promise.all([basicUp, bearerUp, cdn].map((u) => u?.stop()));
  });

  it('sends user:password from the upstream URL as Basic auth: real apt-get update and download work', async () => {
    const apt = await createAptClient({ sourcesLine: `deb [signed-by=${key.publicKeyPath}] ${proxy.url}/basic stable main`, options: { 'Acquire::Retries': '0' } });
    try {
      const up = await apt.update();
      expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
      const dir = await tempDir();
      await apt.download(['vendor'], dir);
      expect(await sha256File(join(dir, debFileName(pkg())))).toBe(pkg().sha256);
    } finally {
      await apt.cleanup();
    }
    expect(basicUp.requests.length).toBeGreaterThan(0);
    expect(basicUp.requests.every((r) => r.headers.authorization === `Basic ${BASIC}`)).toBe(true);
  });

  it('forward-proxy mode matches the upstream URL without its credentials (clients never know them)', async () => {
    const apt = await createAptClient({ sourcesLine: `deb [signed-by=${key.publicKeyPath}] ${basicUp.url} stable main`, proxy: proxy.url });
    try {
      const up = await apt.update();
      expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
      expect(await apt.candidate('other')).toBe('2');
    } finally {
      await apt.cleanup();
    }
  });

  it('sends a bearer token read from tokenFile; without credentials the same upstream refuses', async () => {
    const ok = await fetch(`${proxy.url}/bearer/dists/stable/InRelease`);
    expect(ok.status).toBe(200);
    expect(bearerUp.requests.some((r) => r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    const refused = await fetch(`${proxy.url}/nologin/dists/stable/InRelease`);
    expect(refused.status).toBe(502);
    expect(((await refused.json()) as { message: string }).message).toMatch(/upstream answered 401/);
  });

  it('never forwards credentials to a redirect target on another origin', async () => {
    expect((await fetch(`${proxy.url}/basic/dists/stable/main/binary-amd64/Packages.xz`)).status).toBe(200);
    const deb = repo.packages.find((p) => p.name === 'other')!;
    const path = `/${deb.filename}`;
    basicUp.fault(path, { kind: 'redirect', location: `http://localhost:${cdn.port}${path}`, times: 1 });
    const res = await fetch(`${proxy.url}/basic${path}`);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(deb.sha256);
    const atCdn = cdn.requests.filter((r) => r.path === path);
    expect(atCdn).toHaveLength(1);
    expect(atCdn[0]!.headers.authorization).toBeUndefined();
    expect(basicUp.requests.find((r) => r.path === path)?.headers.authorization).toBe(`Basic ${BASIC}`);
  });

  it('shows the password nowhere: /-/health, a 502 body, the log', async () => {
    const health = await (await fetch(`${proxy.url}/-/health`)).text();
    expect(health).toContain(basicUp.url);
    basicUp.fault('/README.mirror', { kind: 'status', status: 500 });
    const failed = await fetch(`${proxy.url}/basic/README.mirror`);
    expect(failed.status).toBe(502);
    const body = await failed.text();
    expect(body).toContain(`${basicUp.url}/README.mirror`);
    basicUp.clearFaults();
    for (const [what, text] of [['/-/health', health], ['502 body', body], ['log', lines.join('')]]) {
      expect(text, what).not.toContain(PASSWORD);
      expect(text, what).not.toContain(BASIC);
      expect(text, what).not.toContain(TOKEN);
    }
    expect(lines.join('')).toContain('upstream status'); // the log did record the failure
  });

  it('tells clients a signature failed without naming the keyring file or key fingerprints (the log has them)', async () => {
    const res = await fetch(`${proxy.url}/wrongkey/dists/stable/InRelease`);
    expect(res.status).toBe(502);
    const body = (await res.json()) as { error: string; message: string };
    expect(body.error).toBe('SIGNATURE_INVALID');
    expect(body.message).not.toMatch(/\.gpg|\.asc|[0-9A-F]{16}/);
    expect(lines.join('')).toMatch(/not signed by any key/);
  });
});

describeE2E('upstreams that require a client certificate (mTLS, issue 8, finding 8)', TOOLS, () => {
  let key: GpgKey;
  let repo: AptRepo;
  let pki: TestPki;
  let up: Upstream;
  let proxy: TestProxy;

  beforeAll(async () => {
    key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'certpkg', version: '1.0-1', sizeBytes: 100_000 }] });
    pki = await createTestPki();
    up = await startUpstream({ root: repo.root, tls: { key: await readFile(pki.serverKey), cert: await readFile(pki.serverCert), ca: await readFile(pki.caCert), requireClientCert: true } });
    proxy = await startProxy({ remotes: {
      mtls: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, tls: { cert: pki.clientCert, key: pki.clientKey, ca: pki.caCert } },
      nocert: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, tls: { ca: pki.caCert } },
    } });
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.stop();
  });

  it('works with tls: { cert, key, ca }: real apt-get update and download', async () => {
    const apt = await createAptClient({ sourcesLine: `deb [signed-by=${key.publicKeyPath}] ${proxy.url}/mtls stable main`, options: { 'Acquire::Retries': '0' } });
    try {
      const res = await apt.update();
      expect(aptProblems(res), res.stdout + res.stderr).toEqual([]);
      const dir = await tempDir();
      await apt.download(['certpkg'], dir);
      expect(await sha256File(join(dir, debFileName(repo.packages[0]!)))).toBe(repo.packages[0]!.sha256);
    } finally {
      await apt.cleanup();
    }
  });

  it('fails without the client certificate', async () => {
    const res = await fetch(`${proxy.url}/nocert/dists/stable/InRelease`);
    expect(res.status).toBe(502);
    expect(((await res.json()) as { error: string }).error).toBe('UPSTREAM_UNAVAILABLE');
  });
});
