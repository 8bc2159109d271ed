import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { stateKeys } from '../../src/state/keys.ts';
import { openRedisState } from '../../src/state/open-redis-state.ts';
import { tempDir } from './apt-world.ts';
import { spawnRepoint, waitFor, type RepointProcess } from './cli.ts';
import { freePort } from './ports.ts';

/** One `repoint serve` process of a test cluster. */
export interface ClusterNode {
  readonly name: string;
  readonly url: string;
  readonly configPath: string;
  readonly dataDir: string;
  readonly proc: RepointProcess;
  /** kill -9: no shutdown, its leases lapse by themselves */
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  names: readonly string[];
  redisUrl: string;
  remotes: Record<string, Record<string, unknown>>;
  /** extra top-level config keys, the same on every node (blobs:, cache: ...) */
  extra?: Record<string, unknown>;
  /** state lease timings: short in tests, so a killed leader's lease lapses quickly */
  leaseTtl?: string;
  leaseRenewEvery?: string;
}

/**
 * Separate `repoint serve` processes on loopback sharing one Redis and one signing key file (the
 * first node creates it, the others start once it exists), each with its own data dir.
 */
export async function startCluster(opts: ClusterOptions): Promise<{ nodes: ClusterNode[]; keyPath: string; stop(): Promise<void> }> {
  const shared = await tempDir('repoint-cluster-');
  const keyPath = join(shared, 'mirror.asc');
  const start = async (name: string): Promise<ClusterNode> => {
    const dataDir = await tempDir(`repoint-node-${name}-`);
    const port = await freePort();
    const configPath = join(dataDir, 'mirror.yaml');
    await writeFile(configPath, stringify({
      listen: `127.0.0.1:${port}`, dataDir, logLevel: 'info', shutdownGrace: '2s',
      state: { backend: opts.redisUrl, leaseTtl: opts.leaseTtl ?? '2s', leaseRenewEvery: opts.leaseRenewEvery ?? '500ms' },
      signing: { key: keyPath },
      upstream: { retries: 1, bodyTimeout: '10s', connectTimeout: '2s' },
      ...opts.extra,
      remotes: opts.remotes,
    }));
    const proc = spawnRepoint(['serve', '--config', configPath]);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(async () => {
      if (proc.child.exitCode !== null) throw new Error(`node ${name} exited:\n${proc.stderr.slice(-4000)}`);
      return (await fetch(`${url}/-/health`).catch(() => undefined))?.ok === true;
    }, `node ${name} to listen`);
    const kill = async (signal: NodeJS.Signals): Promise<void> => {
      if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill(signal);
      await proc.exited;
    };
    return { name, url, configPath, dataDir, proc, kill9: () => kill('SIGKILL'), stop: () => kill('SIGTERM') };
  };
  const [first, ...rest] = opts.names;
  const nodes = [await start(first!)];
  nodes.push(...(await Promise.all(rest.map(start))));
  return { nodes, keyPath, stop: async () => { await Promise.all(nodes.map((n) => n.stop())); } };
}

/** Log lines of the nodes about the cluster single flight (leases, leaders, resumes), for failure messages. */
export function flightLog(nodes: readonly ClusterNode[]): string {
  return nodes.flatMap((n) => n.proc.stderr.split('\n').filter((l) => /lease|leader|cluster|resum|fill failed/i.test(l)).map((l) => `${n.name}: ${l}`)).slice(-40).join('\n');
}

/**
 * Waits until apt remote `remote`'s live indexes in the shared state list `indexPath` (relative to its
 * suite): the node that fetched the index reads it after answering, and until it is listed the other
 * nodes know no pool file of it (they pass such files through, unverified).
 */
export async function waitForLiveIndex(redisUrl: string, remote: string, indexPath: string): Promise<void> {
  const state = await openRedisState(redisUrl);
  try {
    const listed = async (): Promise<boolean> => ((await state.get<Array<{ path: string }>>(stateKeys.aptLiveIndexes(remote))) ?? []).some((r) => r.path === indexPath);
    await waitFor(listed, `${indexPath} of remote ${remote} to be listed in the shared state`);
  } finally {
    await state.close();
  }
}

/**
 * GETs url and returns status, sha256 of the body, when the first body byte arrived (ms after start)
 * and X-Repoint-Verified ("no" on an unverified pass-through, else null).
 */
export async function download(url: string): Promise<{ status: number; sha256: string; bytes: number; ttfbMs: number; verified: string | null; error?: string }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const verified = res.headers.get('x-repoint-verified');
  const hash = createHash('sha256');
  let bytes = 0;
  let ttfbMs = -1;
  try {
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      if (ttfbMs < 0) ttfbMs = performance.now() - t0;
      hash.update(chunk);
      bytes += chunk.length;
    }
  } catch (err) {
    return { status: res.status, sha256: '', bytes, ttfbMs, verified, error: (err as Error).message };
  }
  return { status: res.status, sha256: hash.digest('hex'), bytes, ttfbMs, verified };
}
