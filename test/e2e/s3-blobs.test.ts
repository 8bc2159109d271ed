// Two repoint nodes on one Redis and one bucket (Ceph RGW): what node A fetched, node B serves from
// the bucket (whole and ranged) without going upstream; then from its own local tier.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256 } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { scrape, sum } from '../helpers/prometheus.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { rgwTools, startRgw, type RgwHandle } from '../helpers/rgw.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

describeE2E('blobs in object storage, two nodes', [...rgwTools(), 'redis-server', 'gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let rgw: RgwHandle;
  let redis: RedisHandle;
  let repo: AptRepo;
  let up: Upstream;
  let bucket: string;
  const nodes: TestProxy[] = [];
  const start = async (extra: Record<string, unknown> = {}): Promise<TestProxy> => {
    const blobs = { type: 's3', endpoint: rgw.endpoint, bucket, region: rgw.region, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey, forcePathStyle: true, ...extra };
    const p = await startProxy({ remotes: { deb: { type: 'apt', upstream: up.url, keyring: keyPath } }, extra: { state: redis.url, blobs } });
    nodes.push(p);
    return p;
  };
  let keyPath: string;

  beforeAll(async () => {
    const key = await createGpgKey();
    keyPath = key.publicKeyPath;
    [rgw, redis, repo] = await Promise.all([startRgw(), startRedis({ own: true }), buildAptRepo({ key, packages: [{ name: 'big', version: '1', sizeBytes: 9_000_000 }] })]);
    up = await startUpstream({ root: repo.root });
    bucket = await rgw.createBucket();
  });
  afterAll(async () => {
    for (const n of nodes) await n.close();
    await up?.stop();
    await Promise.all([rgw?.stop(), redis?.stop()]);
  });

  it('a pool file fetched through node A is served by node B from the bucket, ranges included', async () => {
    const a = await start();
    const b = await start();
    const big = repo.packages[0]!;
    for (const n of [a, b]) {
      for (const path of ['dists/stable/InRelease', 'dists/stable/main/binary-amd64/Packages.xz']) {
        const r = await fetch(`${n.url}/deb/${path}`);
        expect(r.status).toBe(200);
        await r.arrayBuffer();
      }
    }
    const viaA = await fetch(`${a.url}/deb/${big.filename}`);
    expect(viaA.status).toBe(200);
    expect(viaA.headers.get('x-repoint-verified')).not.toBe('no');
    expect(sha256(Buffer.from(await viaA.arrayBuffer()))).toBe(big.sha256);
    expect(up.hits(`/${big.filename}`)).toBe(1);
    const s3 = rgw.client();
    const keys = (await s3.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((o) => o.Key) ?? [];
    s3.destroy();
    expect(keys).toContain(`sha256/${big.sha256.slice(0, 2)}/${big.sha256.slice(2, 4)}/${big.sha256}`);

    const ranged = await fetch(`${b.url}/deb/${big.filename}`, { headers: { range: 'bytes=-100' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toHaveLength(100);
    const whole = await fetch(`${b.url}/deb/${big.filename}`);
    expect(whole.status).toBe(200);
    expect(whole.headers.get('x-repoint-verified')).not.toBe('no');
    expect(sha256(Buffer.from(await whole.arrayBuffer()))).toBe(big.sha256);
    expect(up.hits(`/${big.filename}`)).toBe(1); // B never went upstream for it
    const health = await (await fetch(`${b.url}/-/health`)).json() as { blobs: { count: number; bytes: number } };
    expect(health.blobs.count).toBeGreaterThanOrEqual(3); // shared totals: A's InRelease, index and package
    // metrics and the status page count this node's store: its local tier, not the shared bucket
    const c = await start();
    const mine = await scrape(`${c.url}/-/metrics`);
    expect(sum(mine, 'repoint_blob_store_blobs')).toBe(0);
    expect(sum(mine, 'repoint_blob_store_bytes')).toBe(0);
  });

  it('blobs.redirect: pool and by-hash hits answer 302 to a URL signed for the method; signed metadata is served here', async () => {
    const c = await start({ redirect: true });
    const big = repo.packages[0]!;
    const inRelease = await fetch(`${c.url}/deb/dists/stable/InRelease`, { redirect: 'manual' });
    expect(inRelease.status).toBe(200);
    const text = await inRelease.text();
    const idx = await fetch(`${c.url}/deb/dists/stable/main/binary-amd64/Packages.xz`, { redirect: 'manual' });
    expect(idx.status).toBe(200); // the index is fetched (or read) by repoint; only by-hash paths redirect
    await idx.arrayBuffer();

    const get = await fetch(`${c.url}/deb/${big.filename}`, { redirect: 'manual' });
    expect([get.status, get.headers.get('cache-control')]).toEqual([302, 'no-store']);
    const location = get.headers.get('location')!;
    expect(location.startsWith(rgw.endpoint)).toBe(true);
    const object = await fetch(location);
    expect([object.status, object.headers.get('cache-control')]).toEqual([200, 'public, max-age=31536000, immutable']);
    expect(sha256(Buffer.from(await object.arrayBuffer()))).toBe(big.sha256);
    const ranged = await fetch(location, { headers: { range: 'bytes=0-9' } });
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer())).toHaveLength(10);
    expect((await fetch(location, { method: 'HEAD' })).status).toBe(403); // why HEAD gets its own URL

    const head = await fetch(`${c.url}/deb/${big.filename}`, { method: 'HEAD', redirect: 'manual' });
    expect(head.status).toBe(302);
    const headed = await fetch(head.headers.get('location')!, { method: 'HEAD' });
    expect([headed.status, headed.headers.get('content-length')]).toEqual([200, String(big.size)]);

    const sha = /SHA256:\n(?: .*\n)*? ([0-9a-f]{64}) +\d+ main\/binary-amd64\/Packages\.xz/.exec(text)?.[1];
    expect(sha).toBeDefined();
    const byHash = await fetch(`${c.url}/deb/dists/stable/main/binary-amd64/by-hash/SHA256/${sha}`, { redirect: 'manual' });
    expect(byHash.status).toBe(302);
    expect(sha256(Buffer.from(await (await fetch(byHash.headers.get('location')!)).arrayBuffer()))).toBe(sha);
    // a conditional request is answered here
    const cond = await fetch(`${c.url}/deb/${big.filename}`, { headers: { 'if-none-match': `"${big.sha256}"` }, redirect: 'manual' });
    expect(cond.status).toBe(304);
  });

  it('/-/ready checks the bucket and Redis; /-/health stays 200 when they fail', async () => {
    const ok = await fetch(`${nodes[0]!.url}/-/ready`);
    expect([ok.status, await ok.json()]).toEqual([200, { status: 'ready', checks: { state: 'ok', blobs: 'ok' } }]);
    const lost = await start({ bucket: 'no-such-bucket' });
    const res = await fetch(`${lost.url}/-/ready`);
    const body = await res.json() as { status: string; checks: { state: string; blobs: string } };
    expect([res.status, body.status, body.checks.state]).toEqual([503, 'not ready', 'ok']);
    expect(body.checks.blobs).toMatch(/^BLOB_STORE_UNAVAILABLE: .*HTTP 404/);
    expect(JSON.stringify(body)).not.toContain(rgw.secretAccessKey);
    expect((await fetch(`${lost.url}/-/health`)).status).toBe(200);

    // Redis down: not ready, still alive
    const own = await startRedis({ own: true });
    const blobs = { type: 's3', endpoint: rgw.endpoint, bucket, region: rgw.region, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey, forcePathStyle: true };
    const alone = await startProxy({ remotes: { deb: { type: 'apt', upstream: up.url, keyring: keyPath } }, extra: { state: own.url, blobs } });
    nodes.push(alone);
    expect((await fetch(`${alone.url}/-/ready`)).status).toBe(200);
    await own.stop();
    const down = await fetch(`${alone.url}/-/ready`);
    const downBody = await down.json() as { checks: { state: string; blobs: string } };
    expect(down.status).toBe(503);
    expect(downBody.checks.state).toMatch(/^STATE_UNAVAILABLE/);
    expect(downBody.checks.blobs).toMatch(/^STATE_UNAVAILABLE/); // the blob records live in Redis too
    const health = await fetch(`${alone.url}/-/health`);
    expect(health.status).toBe(200);
    expect((await health.json() as { blobs: unknown }).blobs).toBe('unavailable; see /-/ready');
  });
});
