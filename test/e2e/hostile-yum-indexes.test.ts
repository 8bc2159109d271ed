import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { tempDir } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { buildYumBomb, type YumBomb } from '../upstream/hostile-yum-repo.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

// Finding 2 for yum: a validly signed repomd.xml whose primary.xml expands past the open-size it
// declares. The ingestion is refused at the declared size; the server keeps answering meanwhile.
interface LogLine { msg: string; dir?: string; primary?: string; code?: string; reason?: string }

describeE2E('hostile signed yum metadata: a primary bomb stops at its declared open-size', ['gpg'], () => {
  let upstream: Upstream;
  let proxy: TestProxy;
  const bombs: Partial<Record<'gz' | 'xz', YumBomb>> = {};
  const lines: LogLine[] = [];

  beforeAll(async () => {
    const key = await createGpgKey();
    const root = await tempDir('repoint-hostile-yum-');
    bombs.gz = await buildYumBomb(root, key, 'gz');
    bombs.xz = await buildYumBomb(root, key, 'xz');
    upstream = await startUpstream({ root });
    proxy = await startProxy({
      remotes: { el: { type: 'yum', upstream: upstream.url, keyring: key.publicKeyArmoredPath } },
      extra: { limits: { indexMaxBytes: '64MiB' } },
      log: createLogger('info', {}, (l) => lines.push(JSON.parse(l) as LogLine)),
    });
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await upstream?.stop();
  });

  async function until<T>(probe: () => T | undefined, what: string, ms = 60_000): Promise<T> {
    const end = Date.now() + ms;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  for (const kind of ['gz', 'xz'] as const) {
    it(`finding 2: a signed repomd whose primary.xml.${kind} expands past its open-size is refused with METADATA_TOO_LARGE; /-/health keeps answering`, async () => {
      const bomb = bombs[kind]!;
      const failed = (): LogLine | undefined => lines.find((l) => l.msg === 'primary ingestion failed' && l.dir === bomb.dir);
      // a verified new repomd starts the primary's fetch and ingestion (as for zchunk clients)
      const md = await fetch(`${proxy.url}/el/${bomb.dir}/repodata/repomd.xml`);
      expect(md.status).toBe(200);
      await md.arrayBuffer();
      let health = 0;
      while (!failed()) {
        const h = await fetch(`${proxy.url}/-/health`);
        expect(h.status).toBe(200);
        await h.arrayBuffer();
        health++;
      }
      const failure = await until(failed, `the ${kind} bomb to be refused`);
      expect(failure.primary).toBe(bomb.location);
      expect(failure.code).toBe('METADATA_TOO_LARGE');
      expect(failure.reason).toContain(String(bomb.declared));
      expect(health).toBeGreaterThan(0);
      expect((await fetch(`${proxy.url}/-/health`)).status).toBe(200);
      console.info(`[finding 2] yum ${kind} bomb ${bomb.bytes} B → ${bomb.expandsTo} B refused at its declared ${bomb.declared} B; ${health} health answers meanwhile`);
    }, 120_000);
  }
});
