import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { aptProblems } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';

// Finding 12: with Redis down every request was 500 INTERNAL, cached pool files included.
describeE2E('a state outage (redis-server stopped)', ['apt-get', 'gpg', 'dpkg-deb', 'apt-ftparchive', 'redis-server'], () => {
  let redis: RedisHandle;
  let w: AptWorld;
  beforeAll(async () => {
    redis = await startRedis({ own: true }); // stopped mid-test: never an external REDIS_URL
    w = await startAptWorld({ extra: { state: { backend: redis.url, staleWindow: '5m' } } });
  });
  afterAll(async () => {
    await w?.close();
    await redis?.stop();
  });

  it('finding 12: serves what it looked up in the last minutes, and answers 503 STATE_UNAVAILABLE with Retry-After for the rest', async () => {
    const client = await w.client();
    const up = await client.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    const names = w.repo.packages.map((p) => p.name);
    await client.download(names, await tempDir('repoint-dl-'));

    await redis.stop();
    await new Promise((r) => setTimeout(r, 2500)); // past the in-process cache's 2 s freshness: every lookup now asks redis first

    const dir = await tempDir('repoint-dl-');
    const dl = await client.download(names, dir, { allowFail: true });
    expect(dl.code, dl.stdout + dl.stderr).toBe(0);
    for (const p of w.repo.packages) expect(await sha256File(join(dir, debFileName(p))), p.name).toBe(p.sha256);
    expect((await readdir(dir)).length).toBe(names.length);

    const unknown = await fetch(`${w.base}/pool/main/n/nothere/nothere_1.0_amd64.deb`);
    expect(unknown.status).toBe(503);
    expect(unknown.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(((await unknown.json()) as { error: string }).error).toBe('STATE_UNAVAILABLE');
    expect((await fetch(`${w.proxy.url}/-/health`)).status).toBe(200);
  });
});
