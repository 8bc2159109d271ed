import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo, type AptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey } from '../fixtures/gpg.ts';
import { sha256, tempDir } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { freePort } from '../helpers/ports.ts';
import { run } from '../helpers/run.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

const NODE = join(process.cwd(), 'node_modules/.bin/node');
const MAIN = join(process.cwd(), 'src/cli/main.ts');

async function startChild(config: string, port: number): Promise<ChildProcess> {
  const child = spawn(NODE, [MAIN, 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr!.on('data', (d: Buffer) => { log = (log + d.toString()).slice(-4000); });
  // generous: a loaded CI machine can take many seconds to load the sources
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/-/health`)).ok) return child;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error(`repoint did not start (exit ${child.exitCode ?? 'none'}): ${log}`);
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r() : child.once('exit', () => r())));
}

describeE2E('crash safety (kill -9 mid-download) and repoint verify', ['gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let repo: AptRepo;
  let up: Upstream;
  let dataDir: string;
  let config: string;
  let port: number;
  let child: ChildProcess | undefined;
  const big = () => repo.packages.find((p) => p.name === 'big')!;

  beforeAll(async () => {
    const key = await createGpgKey();
    repo = await buildAptRepo({ key, packages: [{ name: 'big', version: '1', sizeBytes: 8_000_000 }, { name: 'small', version: '1' }] });
    up = await startUpstream({ root: repo.root });
    dataDir = await tempDir('repoint-crash-');
    port = await freePort();
    config = join(dataDir, 'mirror.yaml');
    await writeFile(config, stringify({ listen: `127.0.0.1:${port}`, dataDir, logLevel: 'error', remotes: { deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath } } }));
  });
  afterAll(async () => {
    child?.kill('SIGKILL');
    await up?.stop();
  });

  it('never serves a partial file after kill -9, and cleans up at start', async () => {
    child = await startChild(config, port);
    const base = `http://127.0.0.1:${port}/deb`;
    await (await fetch(`${base}/dists/${repo.suite}/InRelease`)).text();
    await (await fetch(`${base}/dists/${repo.suite}/main/binary-amd64/Packages.xz`)).arrayBuffer();
    up.setRateLimit(2_000_000);
    const res = await fetch(`${base}/${big().filename}`);
    const reader = res.body!.getReader();
    await reader.read();
    await new Promise((r) => setTimeout(r, 500));
    const parts = await readdir(join(dataDir, 'blobs/tmp'));
    expect(parts.length).toBe(1); // mid-download: a temp file, no blob
    child.kill('SIGKILL');
    await exited(child);
    await reader.read().catch(() => undefined);
    up.setRateLimit(undefined);

    child = await startChild(config, port);
    expect(await readdir(join(dataDir, 'blobs/tmp'))).toEqual([]);
    const again = await fetch(`${base}/${big().filename}`);
    const body = Buffer.from(await again.arrayBuffer());
    expect(again.status).toBe(200);
    expect(sha256(body)).toBe(big().sha256);
    expect(up.hits(`/${big().filename}`)).toBe(2); // the partial download was not kept
  });

  it('repoint verify reports and deletes a corrupted blob, which is fetched again on demand', async () => {
    const blobPath = join(dataDir, 'blobs/sha256', big().sha256.slice(0, 2), big().sha256.slice(2, 4), big().sha256);
    await writeFile(blobPath, 'bit rot');
    child!.kill('SIGKILL');
    await exited(child!);
    const verify = await run(NODE, [MAIN, 'verify', '--config', config], { allowFail: true });
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`BAD ${big().sha256}`);
    expect(verify.stderr).toMatch(/1 bad/);
    const clean = await run(NODE, [MAIN, 'verify', '--config', config]);
    expect(clean.stderr).toMatch(/0 bad/);
    child = await startChild(config, port);
    const res = await fetch(`http://127.0.0.1:${port}/deb/${big().filename}`);
    expect(sha256(Buffer.from(await res.arrayBuffer()))).toBe(big().sha256);
    expect(up.hits(`/${big().filename}`)).toBe(3);
  });
});
