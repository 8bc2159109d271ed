import { request } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAptWorld, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';

// issue 8, finding 13: the base URL in Snapshots: fields and API answers is publicUrl, else the
// address the node listens on: never the request's Host header.
const TOOLS = ['gpg', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'test-admin-token';

/** A request with a Host header of our choosing (fetch does not let a caller set it). */
function withHost(url: string, host: string, method = 'GET', headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers: { ...headers, host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describeE2E('base URL (issue 8, finding 13)', TOOLS, () => {
  let w: AptWorld;
  beforeAll(async () => {
    w = await startAptWorld({ packages: [{ name: 'one', version: '1' }], remote: { resign: true, checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN } } });
  });
  afterAll(async () => w?.close());

  it('ignores a forged Host header: API URLs, Snapshots: fields and setup pages use the listen address', async () => {
    const evil = 'attacker.invalid:666';
    const created = await withHost(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, evil, 'POST', { authorization: `Bearer ${TOKEN}` });
    expect(created.status, created.body).toBe(201);
    const { ts, url } = JSON.parse(created.body) as { ts: string; url: string };
    expect(url).toBe(`${w.proxy.url}/${w.remote}/${ts}/`);
    const pages = [
      await withHost(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints`, evil),
      await withHost(`${w.base}/${ts}/dists/stable/InRelease`, evil),
      await withHost(`${w.base}/dists/stable/InRelease`, evil), // live, resign: true
      await withHost(`${w.proxy.url}/-/api/remotes/${w.remote}/checkpoints/${ts}`, evil),
      await withHost(`${w.proxy.url}/-/setup/apt`, evil),
    ];
    for (const p of pages) {
      expect(p.status).toBe(200);
      expect(p.body).not.toContain('attacker.invalid');
      expect(p.body).toContain(w.proxy.url);
    }
    for (const p of [pages[1], pages[2]]) expect(p?.body).toMatch(new RegExp(`^Snapshots: ${w.proxy.url}/${w.remote}/@SNAPSHOTID@/$`, 'm'));
  });
});
