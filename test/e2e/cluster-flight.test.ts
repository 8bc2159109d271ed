import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256 } from '../helpers/apt-world.ts';
import { waitFor } from '../helpers/cli.ts';
import { download, flightLog, startCluster, waitForLiveIndex, type ClusterNode } from '../helpers/cluster.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startRedis, type RedisHandle } from '../helpers/redis.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

// Issue 11, must-hold 3: one upstream fetch per cluster, a dead leader's followers finish.
describeE2E('cluster single flight (3 processes, one Redis, a node store each)', ['gpg', 'dpkg-deb', 'apt-ftparchive', 'redis-server'], () => {
  let repo: AptRepo;
  let up: Upstream;
  let redis: RedisHandle;
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let nodes: ClusterNode[];
  const pkg = (name: string) => repo.packages.find((p) => p.name === name)!;

  beforeAll(async () => {
    const key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'fanin', version: '1', sizeBytes: 12_000_000 }, { name: 'killed', version: '1', sizeBytes: 12_000_000 }] });
    up = await startUpstream({ root: repo.root });
    redis = await startRedis({ own: true });
    cluster = await startCluster({ names: ['a', 'b', 'c'], redisUrl: redis.url, remotes: { deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath } } });
    nodes = cluster.nodes;
    // only node a reads the suite: the others know it from the shared state alone
    const a = nodes[0]!;
    expect((await fetch(`${a.url}/deb/dists/${repo.suite}/InRelease`)).status).toBe(200);
    await (await fetch(`${a.url}/deb/dists/${repo.suite}/main/binary-amd64/Packages.xz`)).arrayBuffer();
    // a reads the index after answering; on a loaded machine b and c could be asked before it is listed
    await waitForLiveIndex(redis.url, 'deb', 'main/binary-amd64/Packages.xz');
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await redis?.stop();
    await up?.stop();
  });

  it('21 clients, 7 per node, on one uncached file: exactly one upstream fetch, every body verified', async () => {
    const p = pkg('fanin');
    up.setRateLimit(8_000_000);
    try {
      const results = await Promise.all(nodes.flatMap((n) => Array.from({ length: 7 }, () => download(`${n.url}/deb/${p.filename}`))));
      // verified: a pass-through (a node that does not know the file) is one upstream fetch per client
      for (const r of results) expect({ status: r.status, sha256: r.sha256, verified: r.verified, error: r.error }).toEqual({ status: 200, sha256: p.sha256, verified: null, error: undefined });
    } finally {
      up.setRateLimit(undefined);
    }
    expect(up.hits(`/${p.filename}`), `one upstream fetch for the whole cluster\n${flightLog(nodes)}`).toBe(1);
  }, 120_000);

  it('a node lacking the blobs a shared pointer names fetches them by hash, verified, never passes through', async () => {
    const xz = await readFile(join(repo.distDir, 'main/binary-amd64/Packages.xz'));
    const res = await fetch(`${nodes[1]!.url}/deb/dists/${repo.suite}/main/binary-amd64/by-hash/SHA256/${sha256(xz)}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-repoint-verified'), 'not an unverified pass-through').toBeNull();
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(sha256(xz));
  });

  it('refuses internal requests without the shared key\'s signature', async () => {
    const res = await fetch(`${nodes[0]!.url}/-/internal/fills/${Buffer.from(`sha256:${pkg('fanin').sha256}@x`).toString('base64url')}`);
    expect(res.status).toBe(401);
    const forged = await fetch(`${nodes[0]!.url}/-/internal/fills/x`, { headers: { authorization: `Repoint-HMAC ${Date.now()}:${'0'.repeat(64)}` } });
    expect(forged.status).toBe(401);
  });

  it('kill -9 of the leader mid-download: the other nodes\' clients finish correctly, a follower resumes upstream', async () => {
    const p = pkg('killed');
    const [a, b, c] = nodes as [ClusterNode, ClusterNode, ClusterNode];
    up.setRateLimit(2_000_000); // ~6 s: long enough to kill the leader half way
    try {
      const onA = download(`${a.url}/deb/${p.filename}`);
      await waitFor(() => up.hits(`/${p.filename}`) === 1, 'node a to lead the download');
      const started = Date.now();
      const followers = [b, c].flatMap((n) => Array.from({ length: 3 }, () => download(`${n.url}/deb/${p.filename}`)));
      await waitFor(() => (up.requests.find((r) => r.path === `/${p.filename}`)?.bytesSent ?? 0) > 0 || Date.now() - started > 1500, 'bytes to flow');
      await new Promise((r) => setTimeout(r, 1500));
      await a.kill9();
      const results = await Promise.all(followers);
      const elapsed = Date.now() - started;
      for (const r of results) expect({ status: r.status, sha256: r.sha256, error: r.error }).toEqual({ status: 200, sha256: p.sha256, error: undefined });
      expect(elapsed, 'followers finished within 60 s of the kill').toBeLessThan(60_000);
      expect((await onA).sha256, 'the killed node\'s own client did not complete a body').not.toBe(p.sha256);
      const fetches = up.requests.filter((r) => r.path === `/${p.filename}`);
      expect(fetches.length, 'the leader\'s fetch and one takeover resuming it').toBe(2);
      expect(fetches[1]!.range, 'the new leader resumed with a Range').toMatch(/^bytes=[1-9]\d*-$/);
    } finally {
      up.setRateLimit(undefined);
    }
  }, 120_000);
});
