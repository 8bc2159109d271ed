import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startUpstream } from './server.ts';
import type { Upstream } from './server.ts';

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** socket error code if the connection failed (e.g. ECONNRESET) */
  error: string | undefined;
  ms: number;
}

/** Byte-exact HTTP/1.1 GET over a raw socket, so cut and corrupted bodies can be measured. */
function rawGet(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<RawResponse> {
  return new Promise((resolve) => {
    const t0 = performance.now();
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const sock = connect(port, '127.0.0.1');
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    sock.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`);
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    sock.on('close', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = split >= 0 ? all.subarray(0, split).toString() : '';
      const [statusLine = '', ...lines] = head.split('\r\n');
      const map = new Map<string, string>();
      for (const l of lines) {
        const i = l.indexOf(':');
        map.set(l.slice(0, i).toLowerCase(), l.slice(i + 1).trim());
      }
      const status = Number(statusLine.split(' ')[1] ?? 0);
      resolve({ status, headers: map, body: split >= 0 ? all.subarray(split + 4) : Buffer.alloc(0), error, ms: performance.now() - t0 });
    });
  });
}

const SIZE = 300_000;
let root: string;
let root2: string;
let data: Buffer;
let up: Upstream;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'repoint-upstream-'));
  root2 = await mkdtemp(join(tmpdir(), 'repoint-upstream2-'));
  data = randomBytes(SIZE);
  await mkdir(join(root, 'pool/main/f/foo'), { recursive: true });
  await writeFile(join(root, 'blob.bin'), data);
  await writeFile(join(root, 'pool/main/f/foo/foo_1.0+dfsg-1~bpo1_amd64.deb'), 'deb');
  await writeFile(join(root, 'InRelease'), 'old release\n');
  await writeFile(join(root2, 'InRelease'), 'new release\n');
  up = await startUpstream({ root });
});
afterEach(() => {
  up.clearFaults();
  up.setRateLimit(undefined);
  up.setRoot(root);
});
afterAll(async () => {
  await up.stop();
  await rm(root, { recursive: true, force: true });
  await rm(root2, { recursive: true, force: true });
});

describe('static serving', () => {
  test('GET and HEAD carry length, validators; missing files and escapes are 404', async () => {
    const r = await rawGet(up.port, '/blob.bin');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-length')).toBe(String(SIZE));
    expect(r.headers.get('etag')).toMatch(/^".+"$/);
    expect(Date.parse(r.headers.get('last-modified') ?? '')).toBeGreaterThan(0);
    expect(r.body.equals(data)).toBe(true);
    const head = await rawGet(up.port, '/blob.bin', {}, 'HEAD');
    expect(head.headers.get('content-length')).toBe(String(SIZE));
    expect(head.body.length).toBe(0);
    expect((await rawGet(up.port, '/nope')).status).toBe(404);
    expect((await rawGet(up.port, '/../../etc/passwd')).status).toBe(404);
    expect((await rawGet(up.port, '/pool')).status).toBe(404);
  });

  test('counts hits per decoded path and logs request headers', async () => {
    up.resetCounters();
    await rawGet(up.port, '/pool/main/f/foo/foo_1.0%2bdfsg-1%7ebpo1_amd64.deb', { Range: 'bytes=1-' });
    await rawGet(up.port, '/blob.bin?x=1', { 'If-Modified-Since': 'Thu, 01 Jan 1970 00:00:00 GMT' });
    await rawGet(up.port, '/blob.bin', {}, 'HEAD');
    expect(up.hits('/pool/main/f/foo/foo_1.0+dfsg-1~bpo1_amd64.deb')).toBe(1);
    expect(up.hits('/blob.bin')).toBe(2);
    expect(up.hitsMatching(/\.(bin|deb)$/)).toBe(3);
    const [a, b, c] = up.requests;
    expect(a?.range).toBe('bytes=1-');
    expect(a?.status).toBe(206);
    expect(b?.ifModifiedSince).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
    expect(b?.rawUrl).toBe('/blob.bin?x=1');
    expect(c?.method).toBe('HEAD');
    up.resetCounters();
    expect(up.hits('/blob.bin')).toBe(0);
    expect(up.requests).toHaveLength(0);
  });

  test('answers If-Modified-Since and If-None-Match with 304 until the file changes', async () => {
    const first = await request(`${up.url}/InRelease`);
    await first.body.text();
    const etag = String(first.headers['etag']);
    const lm = String(first.headers['last-modified']);
    const ims = await request(`${up.url}/InRelease`, { headers: { 'if-modified-since': lm } });
    expect(ims.statusCode).toBe(304);
    expect(await ims.body.text()).toBe('');
    const inm = await request(`${up.url}/InRelease`, { headers: { 'if-none-match': etag } });
    expect(inm.statusCode).toBe(304);
    await inm.body.text();
    const later = new Date(Date.parse(lm) + 5000);
    await utimes(join(root, 'InRelease'), later, later);
    const changed = await request(`${up.url}/InRelease`, { headers: { 'if-modified-since': lm } });
    expect(changed.statusCode).toBe(200);
    expect(await changed.body.text()).toBe('old release\n');
  });

  test('serves single byte ranges with 206, 416 past the end, 200 on a stale If-Range', async () => {
    const mid = await rawGet(up.port, '/blob.bin', { Range: 'bytes=10-19' });
    expect(mid.status).toBe(206);
    expect(mid.headers.get('content-range')).toBe(`bytes 10-19/${SIZE}`);
    expect(mid.body.equals(data.subarray(10, 20))).toBe(true);
    const open = await rawGet(up.port, '/blob.bin', { Range: `bytes=${SIZE - 7}-` });
    expect(open.body.equals(data.subarray(SIZE - 7))).toBe(true);
    const suffix = await rawGet(up.port, '/blob.bin', { Range: 'bytes=-5' });
    expect(suffix.body.equals(data.subarray(SIZE - 5))).toBe(true);
    const past = await rawGet(up.port, '/blob.bin', { Range: `bytes=${SIZE}-` });
    expect(past.status).toBe(416);
    expect(past.headers.get('content-range')).toBe(`bytes */${SIZE}`);
    const stale = await rawGet(up.port, '/blob.bin', { Range: 'bytes=0-9', 'If-Range': '"other"' });
    expect(stale.status).toBe(200);
    expect(stale.body.length).toBe(SIZE);
  });
});

describe('fault injection', () => {
  test('truncate: full Content-Length, connection closed after `at` bytes, only `times` times', async () => {
    const h = up.fault('/blob.bin', { kind: 'truncate', at: 1000, times: 1 });
    const r = await rawGet(up.port, '/blob.bin');
    expect(r.headers.get('content-length')).toBe(String(SIZE));
    expect(r.body.equals(data.subarray(0, 1000))).toBe(true);
    expect(h.applied).toBe(1);
    const again = await rawGet(up.port, '/blob.bin');
    expect(again.body.equals(data)).toBe(true);
    up.fault(/blob/, { kind: 'truncate' });
    const res = await request(`${up.url}/blob.bin`);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
  });

  test('flip: complete body with exactly one byte inverted', async () => {
    up.fault('/blob.bin', { kind: 'flip', at: 12345 });
    const r = await rawGet(up.port, '/blob.bin');
    expect(r.body.length).toBe(SIZE);
    const diffs = [...r.body.keys()].filter((i) => r.body[i] !== data[i]);
    expect(diffs).toEqual([12345]);
    expect(r.body[12345]).toBe((data[12345] ?? 0) ^ 0xff);
  });

  test('wrong-size: smaller sends the short length; larger closes before the advertised end', async () => {
    up.fault('/blob.bin', { kind: 'wrong-size', delta: -5, times: 1 });
    const small = await rawGet(up.port, '/blob.bin');
    expect(small.headers.get('content-length')).toBe(String(SIZE - 5));
    expect(small.body.equals(data.subarray(0, SIZE - 5))).toBe(true);
    up.fault('/blob.bin', { kind: 'wrong-size', delta: 10, times: 1 });
    const big = await rawGet(up.port, '/blob.bin');
    expect(big.headers.get('content-length')).toBe(String(SIZE + 10));
    expect(big.body.equals(data)).toBe(true);
  });

  test('reset: the client sees a connection reset, not a complete body', async () => {
    up.fault('/blob.bin', { kind: 'reset', at: 2000 });
    const r = await rawGet(up.port, '/blob.bin');
    expect(r.error).toBe('ECONNRESET');
    expect(r.body.length).toBeLessThan(SIZE);
    const res = await request(`${up.url}/blob.bin`);
    await expect(res.body.arrayBuffer()).rejects.toThrow();
  });

  test('stall: headers and `at` bytes, then silence for `ms`, then the rest', async () => {
    up.fault('/blob.bin', { kind: 'stall', at: 100, ms: 400 });
    const t0 = performance.now();
    let firstChunkMs = 0;
    const res = await request(`${up.url}/blob.bin`);
    const got: Buffer[] = [];
    for await (const c of res.body) {
      if (got.length === 0) firstChunkMs = performance.now() - t0;
      got.push(c as Buffer);
    }
    expect(firstChunkMs).toBeLessThan(300);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    expect(Buffer.concat(got).equals(data)).toBe(true);
  });

  test('trickle: the body comes steadily in small writes at the given rate, complete', async () => {
    up.fault('/blob.bin', { kind: 'trickle', bytesPerSecond: 4000, chunk: 100, times: 1 });
    const res = await request(`${up.url}/blob.bin`, { headers: { range: 'bytes=0-999' } });
    const got: Buffer[] = [];
    for await (const c of res.body) got.push(c as Buffer);
    expect(res.statusCode).toBe(206);
    expect(Buffer.concat(got).equals(data.subarray(0, 1000))).toBe(true);
    expect(got.length, 'arrived in many small pieces, not at once').toBeGreaterThanOrEqual(5);
    expect(up.requests.at(-1)?.fault).toBe('trickle');
  });

  test('status: injected codes with Retry-After, then normal service after `times`', async () => {
    up.fault('/InRelease', { kind: 'status', status: 503, retryAfter: 7, times: 2 });
    up.fault(/\.bin$/, { kind: 'status', status: 429 });
    for (let i = 0; i < 2; i++) {
      const r = await request(`${up.url}/InRelease`);
      expect(r.statusCode).toBe(503);
      expect(r.headers['retry-after']).toBe('7');
      await r.body.text();
    }
    const ok = await request(`${up.url}/InRelease`);
    expect(ok.statusCode).toBe(200);
    await ok.body.text();
    const missing = await request(`${up.url}/blob.bin`);
    expect(missing.statusCode).toBe(429);
    await missing.body.text();
  });

  test('delay: headers arrive after `ms`; clearFaults and remove() stop faults', async () => {
    up.fault('/InRelease', { kind: 'delay', ms: 300 });
    const t0 = performance.now();
    const r = await request(`${up.url}/InRelease`);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    expect(await r.body.text()).toBe('old release\n');
    up.clearFaults();
    const h = up.fault('/InRelease', { kind: 'status', status: 500 });
    h.remove();
    const t1 = performance.now();
    const fast = await request(`${up.url}/InRelease`);
    expect(fast.statusCode).toBe(200);
    await fast.body.text();
    expect(performance.now() - t1).toBeLessThan(250);
  });
});

describe('control', () => {
  test('rate limit paces bodies', async () => {
    up.setRateLimit(1024 * 1024);
    const slow = await rawGet(up.port, '/blob.bin');
    expect(slow.body.equals(data)).toBe(true);
    // 300 kB at 1 MiB/s is about 286 ms
    expect(slow.ms).toBeGreaterThan(250);
    up.setRateLimit(undefined);
    const fast = await rawGet(up.port, '/blob.bin');
    expect(fast.ms).toBeLessThan(slow.ms / 2);
  });

  test('onRequest hooks run before answering and can swap the root', async () => {
    let seen = 0;
    const off = up.onRequest(async (r) => {
      if (r.path === '/InRelease' && ++seen === 2) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        up.setRoot(root2);
      }
    });
    const finished: number[] = [];
    const offResp = up.onResponse((r) => finished.push(r.status ?? 0));
    expect((await rawGet(up.port, '/InRelease')).body.toString()).toBe('old release\n');
    expect((await rawGet(up.port, '/InRelease')).body.toString()).toBe('new release\n');
    off();
    offResp();
    expect(finished).toEqual([200, 200]);
    expect(up.root).toBe(root2);
  });

  test('down refuses connections; up serves again on the same port', async () => {
    const port = up.port;
    await up.down();
    const refused = await rawGet(port, '/InRelease');
    expect(refused.error).toBe('ECONNREFUSED');
    await up.up();
    expect(up.port).toBe(port);
    expect((await rawGet(port, '/InRelease')).status).toBe(200);
  });

  test('down cuts a response in flight', async () => {
    up.fault('/blob.bin', { kind: 'stall', at: 10, ms: 5000 });
    const pending = rawGet(up.port, '/blob.bin');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await up.down();
    const r = await pending;
    expect(r.body.length).toBe(10);
    expect(r.ms).toBeLessThan(2000);
    await up.up();
  });
});
