// remotes.<name>.importFrom in a serving node: what its log shows, and shutdown during a pull;
// import.trustedKeys errors. Loopback servers only.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadTrustedKeys } from '../../src/bundles/trusted-keys.ts';
import { loadConfig } from '../../src/config/load.ts';
import { createLogger } from '../../src/log.ts';
import { archiveKey } from '../helpers/pgp-keys.ts';
import { startProxy } from '../helpers/proxy.ts';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => { for (const c of cleanups.splice(0)) await c().catch(() => {}); });

describe('importFrom in a serving node', () => {
  it('never logs the query string of the importFrom URL', async () => {
    const key = await archiveKey('outside');
    const lines: string[] = [];
    const log = createLogger('debug', {}, (l) => { lines.push(l); }, 'off');
    const proxy = await startProxy({
      remotes: { lab: { type: 'apt', importFrom: { url: 'http://127.0.0.1:1/-/api/remotes/d/export?checkpoint=20240101T000000Z&key=S3CRET', schedule: '0 0 1 1 *' } } },
      extra: { import: { trustedKeys: [key.keyringPath] } }, log,
    });
    cleanups.push(() => proxy.close());
    const scheduleLine = lines.find((l) => l.includes('import schedule'));
    expect(scheduleLine).toContain('/-/api/remotes/d/export');
    expect(scheduleLine).not.toContain('S3CRET');
  });

  it('cuts off a running scheduled pull when the server closes, before its stores close', async () => {
    const key = await archiveKey('outside');
    let incoming: IncomingMessage | undefined;
    let cutAt: number | undefined;
    // an exporter that answers 200, sends a few bytes, then nothing
    const exporter: Server = createServer((req, res) => {
      incoming = req;
      res.writeHead(200, { 'content-type': 'application/x-tar' });
      res.write(Buffer.alloc(10));
      res.on('close', () => { cutAt ??= Date.now(); });
    });
    await new Promise<void>((r) => exporter.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => { exporter.closeAllConnections(); exporter.close(r); }));
    const port = (exporter.address() as { port: number }).port;
    const proxy = await startProxy({
      remotes: { lab: { type: 'apt', importFrom: { url: `http://127.0.0.1:${port}/-/api/remotes/d/export`, schedule: '* * * * * *' } } },
      extra: { import: { trustedKeys: [key.keyringPath] } },
    });
    const until = Date.now() + 5000;
    while (!incoming && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect(incoming, 'the scheduled pull reached the exporter').toBeDefined();
    await proxy.close();
    expect(cutAt, 'the pull\'s request was still open when close() resolved').toBeDefined();
  });
});

it('a missing import.trustedKeys file is an error naming the config key and the fix', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-trusted-'));
  const file = join(dir, 'mirror.yaml');
  await writeFile(file, `dataDir: ${dir}/data\nimport: { trustedKeys: [keys/outside.asc] }\nremotes:\n  lab: { type: apt }\n`);
  await expect(loadTrustedKeys(loadConfig(file, {}))).rejects.toMatchObject({
    code: 'CONFIG_INVALID', message: expect.stringMatching(/^import\.trustedKeys: keyring file not found: .*outside\.asc \(copy the exporting node's \/-\/keys\/mirror\.asc there, or fix the path\)$/),
  });
});
