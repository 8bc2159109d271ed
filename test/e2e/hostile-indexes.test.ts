import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { tempDir } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { buildHostileRepo, type HostileRepo } from '../upstream/hostile-repo.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

// Finding 2 (signed decompression bombs, endless lines) and finding 10 (a 58 MB signed Release): every
// file below is validly signed by the remote's key. Memory is shown bounded as a cap that aborts; the
// figures (peak RSS, time to refuse, event-loop delay) are measured by bench/hostile-input.ts.
interface LogLine { msg: string; remote?: string; index?: string; code?: string; reason?: string; time: string }

describeE2E('hostile signed indexes: bombs and endless lines are cut off at their caps', ['gpg'], () => {
  let repo: HostileRepo;
  let upstream: Upstream;
  let proxy: TestProxy;
  const lines: LogLine[] = [];
  const idx = 'main/binary-amd64';

  beforeAll(async () => {
    const key = await createGpgKey();
    // declared just under indexMaxBytes: an ingestion long enough that health answers several times during it
    repo = await buildHostileRepo(await tempDir('repoint-hostile-'), key, { xzDeclared: 60 * 2 ** 20 });
    upstream = await startUpstream({ root: repo.root });
    const remote = { type: 'apt', upstream: upstream.url, keyring: key.publicKeyPath };
    proxy = await startProxy({
      remotes: { hostile: remote, good: remote },
      extra: { limits: { indexMaxBytes: '64MiB' } },
      log: createLogger('info', {}, (l) => lines.push(JSON.parse(l) as LogLine)),
    });
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await upstream?.stop();
  });

  const get = async (path: string): Promise<{ status: number; body: Buffer; done: number }> => {
    const res = await fetch(`${proxy.url}/${path}`);
    const body = Buffer.from(await res.arrayBuffer());
    return { status: res.status, body, done: Date.now() };
  };
  const logged = (pred: (l: LogLine) => boolean): LogLine | undefined => lines.find(pred);
  async function until<T>(probe: () => T | undefined, what: string, ms = 60_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const ingestFailure = (remote: string, index: string): LogLine | undefined =>
    logged((l) => l.msg === 'index ingestion failed' && l.remote === remote && l.index === index);
  /** Fetches the suite's InRelease and one index through the proxy: the index is ingested once stored. */
  async function fetchIndex(remote: string, suite: string, name: string): Promise<void> {
    expect((await get(`${remote}/dists/${suite}/InRelease`)).status).toBe(200);
    expect((await get(`${remote}/dists/${suite}/${idx}/${name}`)).status).toBe(200);
  }

  it('finding 2: a signed Packages.xz bomb stops at the size the Release declares (METADATA_TOO_LARGE); health and another remote keep answering meanwhile', async () => {
    await fetchIndex('good', repo.good.suite, 'Packages');
    await until(() => logged((l) => l.msg === 'indexed packages' && l.remote === 'good'), 'the good index');

    await fetchIndex('hostile', repo.xzBomb.suite, 'Packages.xz');
    // The ingestion of the bomb runs now; while it does, other work is answered.
    let health = 0;
    const healthLoop = (async () => {
      while (!ingestFailure('hostile', `${idx}/Packages.xz`)) {
        const h = await get('-/health');
        expect(h.status).toBe(200);
        health++;
      }
    })();
    const pool = await get(`good/${repo.good.poolPath}`);
    expect(pool.status).toBe(200);
    expect(pool.body.equals(repo.good.data)).toBe(true);
    const failure = await until(() => ingestFailure('hostile', `${idx}/Packages.xz`), 'the bomb to be refused');
    await healthLoop;
    expect(failure.code).toBe('METADATA_TOO_LARGE');
    expect(failure.reason).toContain(String(repo.xzBomb.declared));
    expect(pool.done).toBeLessThanOrEqual(Date.parse(failure.time) + 1000); // answered during the ingestion, not after it (log times are ms-rounded)
    expect(health).toBeGreaterThan(1);
    console.info(`[finding 2] xz bomb ${repo.xzBomb.bytes} B → ${repo.xzBomb.expandsTo} B refused at its declared ${repo.xzBomb.declared} B; ${health} health answers during the ingestion`);
  }, 120_000);

  it('finding 2: a signed Packages.gz bomb whose Release declares no uncompressed size stops at limits.indexMaxBytes', async () => {
    await fetchIndex('hostile', repo.gzBomb.suite, 'Packages.gz');
    const failure = await until(() => ingestFailure('hostile', `${idx}/Packages.gz`), 'the gz bomb to be refused');
    expect(failure.code).toBe('METADATA_TOO_LARGE');
    expect(failure.reason).toContain(String(64 * 2 ** 20));
    expect((await get('-/health')).status).toBe(200);
  }, 120_000);

  it('finding 2: an endless line is refused at limits.indexLineMax', async () => {
    // longline's index has the same path as the gz bomb's: wait for this suite's failure, the second one
    const before = lines.filter((l) => l.msg === 'index ingestion failed').length;
    await fetchIndex('hostile', repo.longLine.suite, 'Packages.gz');
    const failure = await until(() => lines.filter((l) => l.msg === 'index ingestion failed').slice(before).find((l) => l.index === `${idx}/Packages.gz`), 'the long line to be refused');
    expect(failure.code).toBe('METADATA_TOO_LARGE');
    expect(failure.reason).toMatch(/line 2 is longer than 1048576/);
  }, 120_000);

  it('finding 10: a 58 MB signed InRelease is refused with METADATA_TOO_LARGE (limits.metadataMaxBytes), before it is parsed', async () => {
    const started = Date.now();
    const res = await get(`hostile/dists/${repo.hugeRelease.suite}/InRelease`);
    console.info(`[finding 10] a ${repo.hugeRelease.bytes} B InRelease refused in ${Date.now() - started} ms`);
    expect(res.status).toBe(502);
    expect(JSON.parse(res.body.toString()).error).toBe('METADATA_TOO_LARGE');
    expect(logged((l) => l.msg === 'refused upstream metadata' && l.code === 'METADATA_TOO_LARGE')).toBeDefined();
  }, 60_000);
});
