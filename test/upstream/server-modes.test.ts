import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { describeE2E } from '../helpers/e2e.ts';
import { createTestPki, type TestPki } from '../helpers/tls-pki.ts';
import { startUpstream, type Upstream } from './server.ts';

let root: string;
let up: Upstream;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'repoint-upstream-modes-'));
  await writeFile(join(root, 'file.bin'), Buffer.from('0123456789'));
  up = await startUpstream({ root });
});
afterAll(async () => up?.stop());

async function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('hostile and vendor upstream modes', () => {
  test('a redirect fault answers 302 (or the given status) with the Location verbatim', async () => {
    const h = up.fault('/file.bin', { kind: 'redirect', location: 'file:///etc/passwd', times: 1 });
    const r = await get(`${up.url}/file.bin`);
    expect([r.status, r.headers.location]).toEqual([302, 'file:///etc/passwd']);
    expect(h.applied).toBe(1);
    up.fault('/file.bin', { kind: 'redirect', location: '/elsewhere', status: 308, times: 1 });
    expect((await get(`${up.url}/file.bin`)).status).toBe(308);
    expect((await get(`${up.url}/file.bin`)).status).toBe(200);
  });

  test('ignoring Range answers a resume with the whole file (200)', async () => {
    up.setIgnoreRange(true);
    try {
      const r = await get(`${up.url}/file.bin`, { range: 'bytes=4-' });
      expect([r.status, r.body]).toEqual([200, '0123456789']);
    } finally {
      up.setIgnoreRange(false);
    }
    expect((await get(`${up.url}/file.bin`, { range: 'bytes=4-' })).body).toBe('456789');
  });

  test('demands Basic or Bearer credentials when told to', async () => {
    up.setAuth({ basic: { username: 'alice', password: 's3cret' } });
    try {
      expect((await get(`${up.url}/file.bin`)).status).toBe(401);
      expect((await get(`${up.url}/file.bin`, { authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}` })).status).toBe(401);
      expect((await get(`${up.url}/file.bin`, { authorization: `Basic ${Buffer.from('alice:s3cret').toString('base64')}` })).status).toBe(200);
      up.setAuth({ bearer: 'tok' });
      expect((await get(`${up.url}/file.bin`, { authorization: 'Bearer nope' })).status).toBe(401);
      expect((await get(`${up.url}/file.bin`, { authorization: 'Bearer tok' })).status).toBe(200);
    } finally {
      up.setAuth(undefined);
    }
  });

  test('listens on another loopback address when asked', async () => {
    const other = await startUpstream({ root, host: '127.0.0.2' });
    try {
      expect(other.url).toMatch(/^http:\/\/127\.0\.0\.2:\d+$/);
      expect((await get(`${other.url}/file.bin`)).body).toBe('0123456789');
    } finally {
      await other.stop();
    }
  });
});

describeE2E('https test upstream with client certificates', ['openssl'], () => {
  let pki: TestPki;
  let tls: Upstream;
  beforeAll(async () => {
    pki = await createTestPki();
    tls = await startUpstream({ root, tls: { key: await readFile(pki.serverKey), cert: await readFile(pki.serverCert), ca: await readFile(pki.caCert), requireClientCert: true } });
  });
  afterAll(async () => tls?.stop());

  test('serves a client that presents a certificate from the CA, and refuses one without', async () => {
    const ca = await readFile(pki.caCert);
    expect(tls.url).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const withCert = new Agent({ connect: { ca, cert: await readFile(pki.clientCert), key: await readFile(pki.clientKey) } });
    const without = new Agent({ connect: { ca } });
    try {
      const ok = await request(`${tls.url}/file.bin`, { dispatcher: withCert });
      expect([ok.statusCode, await ok.body.text()]).toEqual([200, '0123456789']);
      await expect(request(`${tls.url}/file.bin`, { dispatcher: without }).then((r) => r.body.text())).rejects.toThrow();
    } finally {
      await withCert.close();
      await without.close();
    }
  });
});
