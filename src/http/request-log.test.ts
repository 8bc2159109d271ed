import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { RepointError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { Ops } from '../ops/ops.ts';
import type { RemoteHandler } from '../serve/remote-handler.ts';
import type { Reply } from '../serve/reply.ts';
import type { Upstream } from '../upstream/upstream.ts';
import { createApp } from './app.ts';

const ACCESS_KEYS = ['time', 'reqId', 'remote', 'method', 'path', 'status', 'bytes', 'cache', 'ms'];

function world(handle: RemoteHandler['handle']): { app: ReturnType<typeof createApp>; lines: () => Array<Record<string, unknown>>; ops: Ops } {
  const out: string[] = [];
  const ops = new Ops();
  const remote: RemoteHandler = { name: 'deb', type: 'apt', handle };
  const app = createApp({
    remotes: new Map([['deb', remote]]), upstreams: new Map([['deb', ['http://mirror.invalid/debian']]]), ops,
    internal: async (path) => (path[0] === 'health' ? new Response('{}', { headers: { 'content-length': '2' } }) : undefined),
    log: createLogger('info', {}, (l) => out.push(l)),
  });
  const lines = (): Array<Record<string, unknown>> => out.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => 'reqId' in l);
  return { app, lines, ops };
}

const bytes = (data: string, headers?: Record<string, string>): Reply => ({
  body: { kind: 'bytes', data: Buffer.from(data), sha256: 'ab'.repeat(32) }, contentType: 'text/plain', cacheControl: 'no-cache', ...(headers ? { headers } : {}),
});

describe('access log (one flat JSON object per request)', () => {
  it('has exactly the documented top-level keys, and counts a hit', async () => {
    const { app, lines, ops } = world(async () => bytes('hello'));
    const res = await app.request('/deb/pool/a.deb', { headers: { 'x-request-id': 'r-1' } });
    expect(res.status).toBe(200);
    const [line] = lines();
    expect(Object.keys(line!).sort()).toEqual([...ACCESS_KEYS].sort());
    expect(line).toMatchObject({ reqId: 'r-1', remote: 'deb', method: 'GET', path: '/deb/pool/a.deb', status: 200, bytes: 5, cache: 'hit' });
    expect(typeof line!.time).toBe('string');
    expect(ops.meter('deb').byCache[0]).toBe(1);
    expect(ops.meter('deb').bytesFromCache).toBe(5);
  });

  it('says stale, pass and error, and attributes upstream time to the request', async () => {
    const upstream: Upstream = {
      bases: ['http://mirror.invalid'], id: 'up-x',
      fetch: async () => ({ status: 200, headers: { 'content-length': '3' }, body: Readable.from([Buffer.from('abc')]), url: 'http://mirror.invalid/x' }),
    };
    const box: { ops?: Ops } = {};
    const w = world(async (path) => {
      if (path === 'stale') return bytes('old', { 'x-repoint-stale': 'UPSTREAM_UNAVAILABLE' });
      if (path === 'pass') {
        const res = await box.ops!.instrument('deb', upstream).fetch({ path });
        return { body: { kind: 'stream', stream: res.body, size: 3 }, contentType: 'text/plain', cacheControl: 'no-cache' };
      }
      throw new RepointError('UPSTREAM_DIGEST_MISMATCH', 'sha256 mismatch');
    });
    box.ops = w.ops;
    for (const p of ['stale', 'pass', 'bad']) await (await w.app.request(`/deb/${p}`)).arrayBuffer();
    const [stale, pass, bad] = w.lines();
    expect(stale).toMatchObject({ cache: 'stale', status: 200 });
    expect(stale).not.toHaveProperty('upstreamMs');
    expect(pass).toMatchObject({ cache: 'pass', status: 200, bytes: 3 });
    expect(typeof pass!.upstreamMs).toBe('number');
    expect(bad).toMatchObject({ cache: 'error', status: 502, bytes: 0 });
    expect(w.ops.meter('deb').upstreamBytes).toBe(3);
    expect(w.ops.meter('deb').bytesFromUpstream).toBe(3);
  });

  it('logs /-/ endpoints and unknown remotes with remote "-"', async () => {
    const { app, lines, ops } = world(async () => bytes('x'));
    await app.request('/-/health');
    await app.request('/nope/x');
    const [health, unknown] = lines();
    expect(health).toMatchObject({ remote: '-', path: '/-/health', status: 200, cache: '-', bytes: 2 });
    expect(unknown).toMatchObject({ remote: '-', status: 404, cache: 'error' });
    // /-/ requests are not client traffic: they never count in the remotes' figures
    expect(ops.meters().map((m) => m.name)).toEqual(['-']);
  });
});
