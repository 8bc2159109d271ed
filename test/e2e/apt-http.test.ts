import { connect } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sha256, startAptWorld, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';

const TOOLS = ['gpg', 'dpkg-deb', 'apt-ftparchive'];

async function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, { headers, method });
  return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
}

describeE2E('repoint HTTP behaviour for apt paths', TOOLS, () => {
  let w: AptWorld;
  const pkg = (name: string) => w.repo.packages.find((p) => p.name === name)!;
  const url = (name: string) => `${w.base}/${pkg(name).filename}`;

  beforeAll(async () => {
    w = await startAptWorld({ packages: [
      { name: 'bigpkg', version: '1.0-1', sizeBytes: 6_000_000 },
      { name: 'fanin', version: '3.0-1', sizeBytes: 4_000_000 },
      { name: 'faulty', version: '1.0-1', sizeBytes: 1_000_000 },
      { name: 'resetme', version: '1.0-1', sizeBytes: 1_000_000 },
      { name: 'flaky', version: '1.0-1', sizeBytes: 200_000 },
      { name: 'tildepkg', version: '1.0+dfsg-1~bpo12+1' },
    ] });
    // what apt does first: InRelease, then the indexes (these make pool paths "covered")
    expect((await get(`${w.base}/dists/${w.repo.suite}/InRelease`)).status).toBe(200);
    const idx = await get(`${w.base}/dists/${w.repo.suite}/main/binary-amd64/Packages.xz`);
    expect(idx.status).toBe(200);
  });
  afterAll(async () => w?.close());

  it('single flight: 20 concurrent clients on an uncached file cause one upstream download', async () => {
    w.upstream.setRateLimit(20_000_000);
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => get(url('fanin'))));
      for (const r of results) {
        expect(r.status).toBe(200);
        expect(sha256(r.body)).toBe(pkg('fanin').sha256);
      }
      expect(w.upstream.hits(`/${pkg('fanin').filename}`)).toBe(1);
    } finally {
      w.upstream.setRateLimit(undefined);
    }
  });

  it('a client that disconnects does not cancel the download for others', async () => {
    w.upstream.setRateLimit(10_000_000);
    try {
      const ac = new AbortController();
      const first = fetch(url('bigpkg'), { signal: ac.signal }).then(async (r) => { const rd = r.body!.getReader(); await rd.read(); ac.abort(); }).catch(() => {});
      await new Promise((r) => setTimeout(r, 100));
      const second = await get(url('bigpkg'));
      await first;
      expect(sha256(second.body)).toBe(pkg('bigpkg').sha256);
      expect(w.upstream.hits(`/${pkg('bigpkg').filename}`)).toBe(1);
    } finally {
      w.upstream.setRateLimit(undefined);
    }
  });

  it('a corrupted upstream body is never completed for the client and never cached', async () => {
    const f = w.upstream.fault(`/${pkg('faulty').filename}`, { kind: 'flip', times: 1 });
    await expect(get(url('faulty'))).rejects.toThrow();
    expect(f.applied).toBe(1);
    const again = await get(url('faulty'));
    expect(sha256(again.body)).toBe(pkg('faulty').sha256);
    expect(w.upstream.hits(`/${pkg('faulty').filename}`)).toBe(2);
  });

  it('resumes with a Range request when upstream resets or truncates mid-body', async () => {
    w.upstream.fault(`/${pkg('resetme').filename}`, { kind: 'reset', at: 300_000, times: 1 });
    const r = await get(url('resetme'));
    expect(sha256(r.body)).toBe(pkg('resetme').sha256);
    const resumed = w.upstream.requests.filter((q) => q.path === `/${pkg('resetme').filename}`);
    expect(resumed.length).toBe(2);
    expect(resumed[1]!.range).toMatch(/^bytes=\d+-$/);
  });

  it('retries 5xx upstream answers and passes a 404 on without caching it', async () => {
    w.upstream.fault(`/${pkg('flaky').filename}`, { kind: 'status', status: 503, retryAfter: 0, times: 1 });
    const r = await get(url('flaky'));
    expect(r.status).toBe(200);
    expect(sha256(r.body)).toBe(pkg('flaky').sha256);
    const missing = await get(`${w.base}/pool/main/n/nothere/nothere_1.0_amd64.deb`);
    expect(missing.status).toBe(404);
  });

  it('answers HEAD, conditional requests and ranges from the cache', async () => {
    const big = pkg('bigpkg');
    const full = await get(url('bigpkg'));
    const etag = full.headers.get('etag')!;
    const lm = full.headers.get('last-modified')!;
    expect(etag).toBe(`"${big.sha256}"`);
    expect(full.headers.get('content-type')).toBe('application/vnd.debian.binary-package');
    expect(full.headers.get('cache-control')).toMatch(/immutable/);
    const head = await get(url('bigpkg'), {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(big.size));
    expect(head.body.length).toBe(0);
    expect((await get(url('bigpkg'), { 'if-none-match': etag })).status).toBe(304);
    expect((await get(url('bigpkg'), { 'if-modified-since': lm })).status).toBe(304);
    const tail = await get(url('bigpkg'), { range: 'bytes=5000000-' });
    expect(tail.status).toBe(206);
    expect(tail.headers.get('content-range')).toBe(`bytes 5000000-${big.size - 1}/${big.size}`);
    expect(tail.body.equals(full.body.subarray(5_000_000))).toBe(true);
    const mid = await get(url('bigpkg'), { range: 'bytes=10-19' });
    expect(mid.body.equals(full.body.subarray(10, 20))).toBe(true);
    const suffix = await get(url('bigpkg'), { range: 'bytes=-100' });
    expect(suffix.body.equals(full.body.subarray(big.size - 100))).toBe(true);
    const stale = await get(url('bigpkg'), { range: 'bytes=10-19', 'if-range': '"other"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(big.size);
    const unsat = await get(url('bigpkg'), { range: `bytes=${big.size + 10}-` });
    expect(unsat.status).toBe(416);
    expect(unsat.headers.get('content-range')).toBe(`bytes */${big.size}`);
    // a malformed Range is ignored (RFC 9110): the whole file
    const malformed = await get(url('bigpkg'), { range: 'bytes=9-3' });
    expect(malformed.status).toBe(200);
    expect(malformed.body.length).toBe(big.size);
  });

  it('serves InRelease with a short max-age and honours If-Modified-Since', async () => {
    const r = await get(`${w.base}/dists/${w.repo.suite}/InRelease`);
    expect(r.headers.get('cache-control')).toMatch(/max-age=\d+$/);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain/);
    const again = await get(`${w.base}/dists/${w.repo.suite}/InRelease`, { 'if-modified-since': r.headers.get('last-modified')! });
    expect(again.status).toBe(304);
  });

  it('works with +, ~ and percent-encoded names as apt sends them', async () => {
    const t = pkg('tildepkg');
    const encoded = `${w.base}/${t.filename.replace(/\+/g, '%2b').replace(/~/g, '%7e')}`;
    const r = await get(encoded);
    expect(r.status).toBe(200);
    expect(sha256(r.body)).toBe(t.sha256);
  });

  it('refuses bad input with clear statuses', async () => {
    for (const p of ['/deb/../etc/passwd', '/deb/pool/%2e%2e/x', '/deb/a%2fb', '/deb/a%00b', `/deb/${'x'.repeat(5000)}`, '/deb//pool']) {
      const r = await rawRequest(w.proxy.url, `GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(r.split('\r\n')[0], p).toMatch(/ 400 /);
    }
    expect((await get(`${w.proxy.url}/nosuchremote/x`)).status).toBe(404);
    const post = await fetch(url('bigpkg'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('answers pipelined requests in order on one connection', async () => {
    const paths = [pkg('flaky').filename, `dists/${w.repo.suite}/InRelease`, pkg('tildepkg').filename];
    const raw = paths.map((p) => `GET /deb/${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join('') + `GET /-/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
    const out = await rawRequest(w.proxy.url, raw);
    const statuses = [...out.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses).toEqual(['200', '200', '200', '200']);
    const types = [...out.matchAll(/content-type: ([^\r]+)/gi)].map((m) => m[1]);
    expect(types.slice(0, 3)).toEqual(['application/vnd.debian.binary-package', 'text/plain; charset=utf-8', 'application/vnd.debian.binary-package']);
  });
});

function rawRequest(base: string, data: string): Promise<string> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(data)); // no half-close: apt keeps the connection open
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', reject);
  });
}
