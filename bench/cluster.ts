// Several nodes (issue 11), on loopback: 3 `repoint serve` processes on one Redis (and, for s3, one
// Ceph RGW), beside a single node.
//   join:   one client joining a download another node leads (the cross-node overhead alone);
//   fan-in: 21 clients (7 per node) on one uncached large file from a rate-limited upstream: median
//           and max time to first byte (goal <= 100 ms), upstream fetches of that file (goal: 1);
//   hot:    wrk on a hot hit (a small and a 2 MiB file) on two nodes: fs blobs, s3 blobs with the
//           local tier warm, and s3 with a 1 MiB local tier (the 2 MiB file is read from the bucket on
//           every hit: the cold case), beside a single sqlite+fs node.
// Clients are curl processes (hashing in sha256sum). LAYOUT=<substring> runs only matching layouts.
// Usage: npm run bench:cluster [-- MIB RATE_MBPS]   (default 64 MiB at 50 MB/s)
import { buildAptRepo } from '../test/fixtures/apt-repo.ts';
import { createGpgKey } from '../test/fixtures/gpg.ts';
import { startCluster } from '../test/helpers/cluster.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { startRgw } from '../test/helpers/rgw.ts';
import { run } from '../test/helpers/run.ts';
import { startUpstream } from '../test/upstream/server.ts';
import { parseWrk, type WrkResult } from './wrk.ts';

const MIB = Number(process.argv[2] ?? 64);
const RATE = Number(process.argv[3] ?? 50) * 1_000_000;
const PROBES = 5;
const log = (line: string): void => void process.stderr.write(`${line}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export interface Layout {
  name: string;
  /** extra config for every node (blobs:) */
  extra: Record<string, unknown>;
  nodes: number;
  redis: boolean;
}

async function wrk(url: string, seconds: number): Promise<WrkResult> {
  const res = await run('wrk', ['-t2', '-c16', `-d${seconds}s`, '--timeout', '10s', url], { allowFail: true, timeoutMs: (seconds + 30) * 1000 });
  if (res.code !== 0) throw new Error(`wrk ${url}: ${res.stderr}`);
  return parseWrk(res.stdout);
}

/**
 * One client as its own processes (curl | sha256sum): this process's event loop (which also runs the
 * upstream) never delays a client, and curl times its own first byte.
 */
async function curlClient(url: string): Promise<{ status: number; sha256: string; ttfbMs: number }> {
  const script = `set -o pipefail; curl -sS -w '%{stderr}%{http_code} %{time_starttransfer}' ${url} | sha256sum`;
  const res = await run('bash', ['-c', script], { allowFail: true, timeoutMs: 600_000 });
  const [code, ttfb] = res.stderr.trim().split(' ');
  return { status: Number(code), sha256: res.stdout.split(' ')[0] ?? '', ttfbMs: Number(ttfb) * 1000 };
}

async function main(): Promise<void> {
  const key = await createGpgKey();
  const repo = await buildAptRepo({ key, packages: [
    { name: 'big', version: '1', sizeBytes: MIB * 2 ** 20 },
    { name: 'small', version: '1', sizeBytes: 4096 },
    { name: 'mid', version: '1', sizeBytes: 2 * 2 ** 20 },
    ...Array.from({ length: PROBES * 4 }, (_, i) => ({ name: `probe${i}`, version: '1', sizeBytes: 8 * 2 ** 20 })),
  ] });
  let probe = 0;
  const pkg = (n: string) => repo.packages.find((p) => p.name === n)!;
  const up = await startUpstream({ root: repo.root });
  const only = process.env['LAYOUT'];
  const s3 = await s3Layouts();
  const all: Layout[] = [
    { name: 'single node (sqlite, fs)', extra: {}, nodes: 1, redis: false },
    { name: '3 nodes (redis, fs each)', extra: {}, nodes: 3, redis: true },
    ...s3.layouts,
  ];
  const layouts = only ? all.filter((l) => l.name.includes(only)) : all;
  const rows: string[] = [];
  for (const layout of layouts) {
    const redis = layout.redis ? await startRedis({ own: true }) : undefined;
    const names = Array.from({ length: layout.nodes }, (_, i) => String.fromCharCode(97 + i));
    const cluster = await startCluster({
      names, redisUrl: redis?.url ?? 'sqlite', extra: layout.extra, leaseTtl: '15s', leaseRenewEvery: '5s',
      remotes: { deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath } },
    });
    try {
      for (const n of cluster.nodes) { // every node's clients ran apt update first
        await (await fetch(`${n.url}/deb/dists/${repo.suite}/InRelease`)).arrayBuffer();
        await (await fetch(`${n.url}/deb/dists/${repo.suite}/main/binary-amd64/Packages.xz`)).arrayBuffer();
      }
      // and one package each: the index is ingested and its lookups warm, so ttfb measures the fill
      for (const n of cluster.nodes) await (await fetch(`${n.url}/deb/${pkg('small').filename}`)).arrayBuffer();
      up.resetCounters();
      up.setRateLimit(RATE);
      const t0 = performance.now();
      const clients = await Promise.all(cluster.nodes.flatMap((n) => Array.from({ length: 21 / layout.nodes }, () => curlClient(`${n.url}/deb/${pkg('big').filename}`))));
      const wallMs = performance.now() - t0;
      up.setRateLimit(undefined);
      const ok = clients.filter((c) => c.status === 200 && c.sha256 === pkg('big').sha256).length;
      const ttfb = clients.map((c) => c.ttfbMs);
      let fanin = `fan-in ${layout.name}: 21 clients, ${MIB} MiB at ${RATE / 1e6} MB/s: ttfb median ${median(ttfb).toFixed(1)} ms, max ${Math.max(...ttfb).toFixed(1)} ms; upstream fetches ${up.hits(`/${pkg('big').filename}`)}; complete+verified ${ok}/21; wall ${(wallMs / 1000).toFixed(1)} s`;
      const k = 21 / layout.nodes;
      const byNode = cluster.nodes.map((n, i) => `${n.name} ${median(ttfb.slice(i * k, (i + 1) * k)).toFixed(1)} ms`).join(', ');
      fanin += ` (median ttfb per node: ${byNode})`;
      log(fanin);
      rows.push(fanin);
      // One late joiner at a time, no storm: a download led by the first node, joined on the last.
      const joins: number[] = [];
      up.setRateLimit(RATE);
      for (let i = 0; i < PROBES; i++) {
        const f = pkg(`probe${probe++}`).filename;
        const lead = curlClient(`${cluster.nodes[0]!.url}/deb/${f}`);
        while (up.hits(`/${f}`) === 0) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 50));
        joins.push((await curlClient(`${cluster.nodes.at(-1)!.url}/deb/${f}`)).ttfbMs);
        await lead;
      }
      up.setRateLimit(undefined);
      const join = `join ${layout.name}: one client joining a running download ${layout.nodes > 1 ? 'on another node' : 'on the same node'}: ttfb median ${median(joins).toFixed(1)} ms (${joins.map((j) => j.toFixed(0)).join(', ')})`;
      log(join);
      rows.push(join);
      for (const p of [pkg('small'), pkg('mid')]) {
        for (const n of cluster.nodes) await (await fetch(`${n.url}/deb/${p.filename}`)).arrayBuffer();
        for (const n of cluster.nodes.slice(0, Math.min(2, layout.nodes))) {
          const r = await wrk(`${n.url}/deb/${p.filename}`, 5);
          const line = `hot ${layout.name} node ${n.name} ${p.size} B: ${r.reqPerSec.toFixed(0)} req/s, ${(r.bytesPerSec / 2 ** 20).toFixed(0)} MiB/s, errors ${r.errors}`;
          log(line);
          rows.push(line);
        }
      }
    } finally {
      up.setRateLimit(undefined);
      await cluster.stop();
      await redis?.stop();
    }
  }
  await up.stop();
  await s3.stop();
  process.stdout.write(`${rows.join('\n')}\n`);
}

/** 3 nodes on one bucket: local tier warm (hits from local disk), and one too small to hold the 2 MiB file (a blob over half of it is never copied in). */
async function s3Layouts(): Promise<{ layouts: Layout[]; stop: () => Promise<void> }> {
  const rgw = await startRgw();
  const blobs = async (): Promise<Record<string, unknown>> => ({
    type: 's3', endpoint: rgw.endpoint, bucket: await rgw.createBucket(), region: rgw.region,
    accessKeyId: rgw.accessKeyId, secretAccessKey: rgw.secretAccessKey, forcePathStyle: true,
  });
  return {
    layouts: [
      { name: '3 nodes (redis, s3, local tier warm)', extra: { blobs: await blobs() }, nodes: 3, redis: true },
      { name: '3 nodes (redis, s3, local tier 1 MiB: the 2 MiB file is read from the bucket on every hit)', extra: { blobs: await blobs(), cache: { maxSize: '1MiB' } }, nodes: 3, redis: true },
    ],
    stop: () => rgw.stop(),
  };
}

await main();
