import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { leaseHolder, tryAcquireLease } from '../../src/state/lease.ts';
import { openSqliteState } from '../../src/state/open-state.ts';
import type { StateStore } from '../../src/state/state-store.ts';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { repoint, spawnRepoint, waitFor } from '../helpers/cli.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

const TOKEN = 'lease-test-token';
const LEASE = 'checkpoint:deb';

/** Holds every upstream answer until release(): a checkpoint run then sits mid-way, holding its lease. */
function holdUpstream(up: Upstream): { release(): void; unhook(): void } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const unhook = up.onRequest(async () => { await held; });
  return { release, unhook };
}

// Findings 6 and 7: concurrent creates, contention as 409, and a crashed holder's lease reclaimed.
describeE2E('checkpoint runs under a renewed lease', ['gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let repo: AptRepo;
  let up: Upstream;
  let proxy: TestProxy;
  let state: StateStore;
  let config: string;
  const list = async (): Promise<string[]> => {
    const r = await repoint(['checkpoint', 'list', 'deb', '--config', config]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  };

  beforeAll(async () => {
    const key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'a', version: '1' }] });
    up = await startUpstream({ root: repo.root });
    proxy = await startProxy({
      remotes: { deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, checkpoints: { suites: [repo.suite] } } },
      // a short lease, so a dead holder's lapses within the test (production: 15 s, renewed every 5 s)
      extra: { admin: { token: TOKEN }, state: { backend: 'sqlite', leaseTtl: '2s', leaseRenewEvery: '500ms' }, upstream: { retries: 0, bodyTimeout: '120s', connectTimeout: '2s' } },
    });
    config = proxy.configPath;
    state = openSqliteState(join(proxy.dataDir, 'state', 'state.sqlite'));
  });
  afterAll(async () => {
    await state?.close();
    await proxy?.close();
    await up?.stop();
  });

  it('finding 6: two concurrent `checkpoint create` processes make one checkpoint; the other says it is already running', async () => {
    const hold = holdUpstream(up);
    try {
      const a = spawnRepoint(['checkpoint', 'create', 'deb', '--config', config]);
      const b = spawnRepoint(['checkpoint', 'create', 'deb', '--config', config]);
      // The winner waits on the upstream until the loser has answered, so they surely overlapped.
      const first = await Promise.race([a.exited.then(() => a), b.exited.then(() => b)]);
      hold.release();
      const [ra, rb] = await Promise.all([a.exited, b.exited]);
      const loser = first;
      const winner = loser === a ? b : a;
      expect((loser === a ? ra : rb).code, loser.stderr).toBe(75);
      expect(loser.stderr).toMatch(/^repoint: CHECKPOINT_RUNNING: a checkpoint of deb is already running \(pid \d+ on .+\); try again when it has finished$/m);
      expect(loser.stderr).toContain(`pid ${winner.pid} `);
      expect((winner === a ? ra : rb).code, winner.stderr).toBe(0);
      expect(winner.stdout.trim()).toMatch(/^deb\/\d{8}T\d{6}Z$/);
      expect(await list()).toHaveLength(1);
    } finally {
      hold.release();
      hold.unhook();
    }
  });

  it('finding 7: the API answers 409 CHECKPOINT_RUNNING while another process holds the lease', async () => {
    const lease = await tryAcquireLease(state.leases, LEASE, { ttlMs: 10_000, renewEveryMs: 1000, owner: 'pid 4242 on elsewhere' });
    expect(lease).toBeDefined();
    try {
      const res = await fetch(`${proxy.url}/-/api/remotes/deb/checkpoints`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
      expect(res.status).toBe(409);
      const body = (await res.json()) as { error: string; message: string };
      expect(body.error).toBe('CHECKPOINT_RUNNING');
      expect(body.message).toContain('pid 4242 on elsewhere');
    } finally {
      await lease?.release();
    }
  });

  it('finding 7: a `checkpoint create` killed with -9 mid-run blocks checkpoints only until its lease lapses', async () => {
    const hold = holdUpstream(up);
    const before = (await list()).length;
    try {
      const seen = up.requests.length;
      const victim = spawnRepoint(['checkpoint', 'create', 'deb', '--config', config]);
      await waitFor(() => up.requests.length > seen, 'the run to reach upstream (it holds the lease by then)');
      expect((await leaseHolder(state.leases, LEASE))?.owner).toMatch(new RegExp(`^pid ${victim.pid} on `));
      victim.child.kill('SIGKILL');
      await victim.exited;
      const killedAt = Date.now();
      hold.release();
      await waitFor(async () => (await leaseHolder(state.leases, LEASE)) === undefined, 'the dead holder\'s lease to lapse', 60_000);
      const lapsedMs = Date.now() - killedAt;
      const next = await repoint(['checkpoint', 'create', 'deb', '--config', config]);
      const reclaimedMs = Date.now() - killedAt;
      console.info(`[finding 7] lease 2s renewed every 500ms: kill -9 → lease free after ${lapsedMs} ms; a new \`checkpoint create\` done after ${reclaimedMs} ms`);
      expect(next.code, next.stderr).toBe(0);
      expect(next.stdout.trim()).toMatch(/^deb\/\d{8}T\d{6}Z$/);
      expect(await list()).toHaveLength(before + 1);
    } finally {
      hold.release();
      hold.unhook();
    }
  });
});
