// A pull from another repoint (`repoint import <URL>`, importFrom) whose other end goes silent:
// before the headers, or mid-bundle. It must fail after upstream.bodyTimeout, naming it, publish
// nothing and leave no lease behind. Loopback servers only.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateSigner } from '../../src/trust/signer.ts';
import { repoint } from '../helpers/airgap.ts';
import { MAIN, NODE } from '../helpers/cli.ts';
import { run } from '../helpers/run.ts';

describe('a pull whose other end goes silent', () => {
  let dir: string;
  let key: string;
  let configPath: string;
  let server: Server;
  let base: string;
  const held: ServerResponse[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'repoint-stall-'));
    const signer = await loadOrCreateSigner(join(dir, 'outside-secret.asc'));
    key = join(dir, 'outside.asc');
    await writeFile(key, signer.publicKeyArmored);
    configPath = join(dir, 'mirror.yaml');
    await writeFile(configPath, stringify({
      listen: '127.0.0.1:0', dataDir: join(dir, 'data'), upstream: { bodyTimeout: '1s' },
      import: { trustedKeys: [key] }, remotes: { lab: { type: 'apt' } },
    }));
    server = createServer((req, res) => {
      held.push(res); // never ended: the other node hangs
      if (req.url?.startsWith('/mid/')) {
        res.writeHead(200, { 'content-type': 'application/x-tar' });
        res.write(Buffer.alloc(100, 'a')); // part of a tar header, then nothing
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const res of held) res.destroy();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  it('no answer at all: import fails with UPSTREAM_TIMEOUT naming upstream.bodyTimeout', async () => {
    const r = await repoint(['import', `${base}/none/-/api/remotes/lab/export`], configPath);
    expect([r.code, r.stderr.trim()]).toEqual([1, expect.stringMatching(/^repoint: UPSTREAM_TIMEOUT: .*no answer within 1s \(upstream\.bodyTimeout\)$/m)]);
  });

  it('silent mid-bundle: import fails naming the setting, publishes nothing, and the next run is not blocked by a lease', async () => {
    for (let i = 0; i < 2; i++) { // a lease left behind would make the second run exit 75
      const r = await repoint(['import', `${base}/mid/-/api/remotes/lab/export`], configPath);
      expect([r.code, r.stderr.trim()]).toEqual([1, expect.stringMatching(/^repoint: UPSTREAM_TIMEOUT: .*no byte for 1s mid-bundle \(upstream\.bodyTimeout\)$/m)]);
    }
    const list = await repoint(['checkpoint', 'list', 'lab'], configPath);
    expect(list.stdout).not.toMatch(/\d{8}T\d{6}Z/);
  });

  it('bundle verify of a silent URL fails the same way (with --key and no config: the 30s default; here the config\'s 1s)', async () => {
    const r = await run(NODE, [MAIN, 'bundle', 'verify', `${base}/mid/x.tar`, '--config', configPath], { allowFail: true, timeoutMs: 20_000 });
    expect([r.code, r.stderr.trim()]).toEqual([1, expect.stringMatching(/^repoint: UPSTREAM_TIMEOUT: .*mid-bundle \(upstream\.bodyTimeout\)$/m)]);
  });
});
