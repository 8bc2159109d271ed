// Two repoint nodes on one Redis and one bucket (Ceph RGW): what node A fetched, node B serves from
// the bucket (whole and ranged) without going upstream; then from its own local tier.
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256 } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
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
  });
});
