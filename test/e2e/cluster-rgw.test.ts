// Issue 11, must-show: 3 repoint processes, one Redis, one bucket on a real Ceph RGW.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey, type GpgKey } from '../fixtures/gpg.ts';
import { buildYumRepo, type YumRepo } from '../fixtures/yum-repo.ts';
import { aptProblems, createAptClient } from '../helpers/apt-client.ts';
import { debFileName, sha256, sha256File, tempDir } from '../helpers/apt-world.ts';
import { repoint, waitFor } from '../helpers/cli.ts';
import { download, flightLog, startCluster, type ClusterNode } from '../helpers/cluster.ts';
import { createDnfClient } from '../helpers/dnf-client.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { rgwTools, startRgw, type RgwHandle } from '../helpers/rgw.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

const TOKEN = 'cluster-admin-token';
const TOOLS = [...rgwTools(), 'redis-server', 'apt-get', 'gpg', 'gpgv', 'dpkg-deb', 'apt-ftparchive', 'dnf', 'rpmbuild', 'createrepo_c'];

describeE2E('a cluster: 3 nodes, one Redis, one RGW bucket', TOOLS, () => {
  let rgw: RgwHandle;
  let redis: RedisHandle;
  let key: GpgKey;
  let apt: AptRepo;
  let yum: YumRepo;
  let aptUp: Upstream;
  let yumUp: Upstream;
  let bucket: string;
  let s3: S3Client;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let a: ClusterNode, b: ClusterNode, c: ClusterNode;
  const deb = (name: string) => apt.packages.find((p) => p.name === name)!;

  beforeAll(async () => {
    key = await createGpgKey();
    [rgw, redis, apt, yum] = await Promise.all([
      startRgw(), startRedis({ own: true }),
      buildAptRepo({ key, packages: [
        { name: 'hello', version: '1.0-1', sizeBytes: 200_000 },
        { name: 'fanin', version: '1', sizeBytes: 24_000_000 },
        { name: 'ckpt', version: '1', sizeBytes: 1_000_000 },
        { name: 'busy', version: '1', sizeBytes: 8_000_000 },
        { name: 'killed', version: '1', sizeBytes: 16_000_000 },
      ] }),
      buildYumRepo({ key, packages: [{ name: 'bigpkg', version: '1.0', sizeBytes: 3 * 1024 * 1024 }, { name: 'smallpkg', version: '2.0' }] }),
    ]);
    [aptUp, yumUp] = await Promise.all([startUpstream({ root: apt.root }), startUpstream({ root: yum.root })]);
    bucket = await rgw.createBucket();
    s3 = rgw.client();
    cluster = await startCluster({
      names: ['a', 'b', 'c'], redisUrl: redis.url,
      extra: {
        blobs: { type: 's3', endpoint: rgw.endpoint, bucket, region: rgw.region, accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey, forcePathStyle: true },
        admin: { token: TOKEN },
        cache: { gcGrace: '1s' }, // so `repoint gc --all` below may collect what the tests fetched
      },
      remotes: {
        deb: { type: 'apt', upstream: aptUp.url, keyring: key.publicKeyPath, checkpoints: { suites: ['stable'], components: ['main'], architectures: ['amd64'], keep: 5 } },
        el: { type: 'yum', upstream: yumUp.url, keyring: key.publicKeyArmoredPath },
      },
    });
    [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  }, 240_000);
  afterAll(async () => {
    s3?.destroy();
    await cluster?.stop();
    await Promise.all([aptUp?.stop(), yumUp?.stop()]);
    await Promise.all([rgw?.stop(), redis?.stop()]);
  });

  it('real apt-get through node a and dnf through node b; every index is fetched once for the cluster', async () => {
    const client = await createAptClient({ sourcesLine: `deb [signed-by=${key.publicKeyPath}] ${a.url}/deb stable main` });
    const up = await client.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    const dl = await tempDir();
    await client.download(['hello'], dl);
    expect(await sha256File(join(dl, debFileName(deb('hello'))))).toBe(deb('hello').sha256);
    await client.cleanup();

    const dnf = await createDnfClient({ repoId: 'cluster', baseurl: `${b.url}/el/`, gpgkey: `file://${key.publicKeyArmoredPath}`, repoGpgcheck: true, setopts: ['retries=1', 'timeout=30'] });
    try {
      const made = await dnf.makecache();
      expect(made.code, made.stdout + made.stderr).toBe(0);
      const dir = await tempDir();
      const got = await dnf.download(['bigpkg', 'smallpkg'], dir);
      expect(got.code, got.stdout + got.stderr).toBe(0);
      for (const p of yum.packages) expect(sha256(await readFile(join(dir, `${p.nevra}.rpm`)))).toBe(p.sha256);
    } finally {
      await dnf.close();
    }
    // node c reads the same suite: what a stored in the bucket is not fetched again
    const again = await createAptClient({ sourcesLine: `deb [signed-by=${key.publicKeyPath}] ${c.url}/deb stable main` });
    expect(aptProblems(await again.update())).toEqual([]);
    await again.cleanup();
    expect(aptUp.hitsMatching(/binary-amd64\/(by-hash|Packages)/), 'the Packages index, once for the cluster').toBe(1);
  }, 180_000);

  it('21 clients (7 per node) on one uncached large file: exactly 1 upstream fetch, every sha256 right', async () => {
    const p = deb('fanin');
    aptUp.setRateLimit(12_000_000);
    try {
      const results = await Promise.all([a, b, c].flatMap((n) => Array.from({ length: 7 }, () => download(`${n.url}/deb/${p.filename}`))));
      for (const r of results) expect({ status: r.status, sha256: r.sha256, verified: r.verified, error: r.error }).toEqual({ status: 200, sha256: p.sha256, verified: null, error: undefined });
    } finally {
      aptUp.setRateLimit(undefined);
    }
    expect(aptUp.hits(`/${p.filename}`), `one upstream fetch for the whole cluster\n${flightLog([a, b, c])}`).toBe(1);
  }, 120_000);

  it('a checkpoint made through node a installs from node c with the key from node b', async () => {
    const made = await fetch(`${a.url}/-/api/remotes/deb/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    const body = (await made.json()) as { ts: string };
    expect(made.status, JSON.stringify(body)).toBe(201);
    const keyFile = join(await tempDir('repoint-key-'), 'mirror.gpg');
    await writeFile(keyFile, Buffer.from(await (await fetch(`${b.url}/-/keys/mirror.gpg`)).arrayBuffer()));
    const client = await createAptClient({ sourcesLine: `deb [signed-by=${keyFile}] ${c.url}/deb/${body.ts} stable main` });
    const up = await client.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    const dl = await tempDir();
    await client.download(['hello', 'ckpt'], dl);
    for (const p of [deb('hello'), deb('ckpt')]) expect(await sha256File(join(dl, debFileName(p)))).toBe(p.sha256);
    await client.cleanup();
  }, 180_000);

  it('a CLI command on a running node never breaks its downloads', async () => {
    const p = deb('busy');
    aptUp.setRateLimit(4_000_000);
    try {
      const dl = download(`${b.url}/deb/${p.filename}`);
      await waitFor(() => aptUp.hits(`/${p.filename}`) === 1, 'the download to start');
      for (const args of [['gc', '--dry-run'], ['checkpoint', 'list'], ['gc']]) {
        const res = await repoint([...args, '--config', b.configPath]);
        expect(res.code, `repoint ${args.join(' ')}: ${res.stderr}`).toBe(0);
      }
      const r = await dl;
      expect({ status: r.status, sha256: r.sha256, error: r.error }).toEqual({ status: 200, sha256: p.sha256, error: undefined });
    } finally {
      aptUp.setRateLimit(undefined);
    }
  }, 120_000);

  it('kill -9 of the leader mid-download: the other nodes\' clients finish correctly within 60 s', async () => {
    const p = deb('killed');
    aptUp.setRateLimit(2_000_000); // 8 s: the kill lands half way
    try {
      const onA = download(`${a.url}/deb/${p.filename}`);
      await waitFor(() => aptUp.hits(`/${p.filename}`) === 1, 'node a to lead the download');
      const followers = [b, c].flatMap((n) => Array.from({ length: 3 }, () => download(`${n.url}/deb/${p.filename}`)));
      await new Promise((r) => setTimeout(r, 2500));
      const killedAt = Date.now();
      await a.kill9();
      const results = await Promise.all(followers);
      expect(Date.now() - killedAt, 'followers finished within 60 s of the kill').toBeLessThan(60_000);
      for (const r of results) expect({ status: r.status, sha256: r.sha256, error: r.error }).toEqual({ status: 200, sha256: p.sha256, error: undefined });
      expect((await onA).sha256, 'the killed node\'s own client got no complete body').not.toBe(p.sha256);
      const fetches = aptUp.requests.filter((r) => r.path === `/${p.filename}`);
      expect(fetches.length, 'the dead leader\'s fetch and one takeover').toBe(2);
      expect(fetches[1]!.range, 'the new leader resumed with a Range').toMatch(/^bytes=[1-9]\d*-$/);
    } finally {
      aptUp.setRateLimit(undefined);
    }
  }, 180_000);

  it('repoint gc from another node keeps what node a\'s checkpoint pins, and it is still served', async () => {
    const res = await repoint(['gc', '--all', '--config', c.configPath]);
    expect(res.code, res.stderr).toBe(0);
    const list = (await (await fetch(`${b.url}/-/api/remotes/deb/checkpoints`)).json()) as { checkpoints: Array<{ ts: string }> };
    const ts = list.checkpoints.at(-1)!.ts;
    for (const p of [deb('hello'), deb('ckpt')]) {
      const r = await download(`${b.url}/deb/${ts}/${p.filename}`);
      expect({ status: r.status, sha256: r.sha256 }).toEqual({ status: 200, sha256: p.sha256 });
    }
    // the yum remote has no checkpoints: its packages are pinned by nothing
    const rpm = yum.packages.find((p) => p.name === 'bigpkg')!.sha256;
    const gone = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `sha256/${rpm.slice(0, 2)}/${rpm.slice(2, 4)}/${rpm}` }));
    expect(gone.KeyCount ?? 0, `an unpinned blob was collected from the bucket\n${res.stdout}`).toBe(0);
  }, 120_000);

  it('no blob stored twice, no temp object left but the killed leader\'s upload (removed by age)', async () => {
    const objects: Array<{ key: string; size: number }> = [];
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) objects.push({ key: o.Key!, size: o.Size! });
      token = page.NextContinuationToken;
    } while (token);
    for (const o of objects) expect(o.key).toMatch(/^sha256\/([0-9a-f]{2})\/([0-9a-f]{2})\/\1\2[0-9a-f]{60}$/);
    expect(new Set(objects.map((o) => o.key)).size).toBe(objects.length);
    const health = (await (await fetch(`${b.url}/-/health`)).json()) as { blobs: { count: number; bytes: number } };
    expect(health.blobs, 'running totals count each blob once').toEqual({ count: objects.length, bytes: objects.reduce((s, o) => s + o.size, 0) });
    const uploads = (await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [];
    const p = deb('killed');
    const killed = `sha256/${p.sha256.slice(0, 2)}/${p.sha256.slice(2, 4)}/${p.sha256}`;
    expect(uploads.filter((u) => u.Key !== killed).map((u) => u.Key), 'no upload left but the killed node\'s').toEqual([]);
  });
});

