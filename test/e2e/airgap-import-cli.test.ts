// The command-line edges of `repoint import` and `repoint bundle verify`: URLs that fail, stdin as a
// terminal, Ctrl-C mid-import. Loopback servers only.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Catalogue, checkpoint, exportBundle, indexLine, keys, storePackage } from '../helpers/bundle-harness.ts';
import { configOf, memoryWorld, remoteOf } from '../helpers/memory-world.ts';
import { loadOrCreateSigner } from '../../src/trust/signer.ts';
import { repoint } from '../helpers/airgap.ts';
import { MAIN, NODE, waitFor } from '../helpers/cli.ts';
import { run } from '../helpers/run.ts';

const TOKEN = 'rev7-very-secret-token';

describe('import / bundle verify at the command line', () => {
  let dir: string;
  let key: string;
  let configPath: string;
  let html: Server;
  let htmlUrl: string;
  let refusedUrl: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rev7-cli-'));
    const signer = await loadOrCreateSigner(join(dir, 'outside-secret.asc'));
    key = join(dir, 'outside.asc');
    await writeFile(key, signer.publicKeyArmored);
    configPath = join(dir, 'mirror.yaml');
    await writeFile(configPath, stringify({ listen: '127.0.0.1:0', dataDir: join(dir, 'data'), import: { trustedKeys: [key] }, remotes: { lab: { type: 'apt' } } }));
    // a port that refuses connections: bind, note it, close
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    refusedUrl = `http://127.0.0.1:${(tmp.address() as AddressInfo).port}/-/api/remotes/lab/export`;
    await new Promise((r) => tmp.close(r));
    // a web server answering an HTML error page (a proxy's, a login portal's)
    html = createServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' });
      res.end('<!DOCTYPE html>\n<html>\n<head><title>404 Not Found</title></head>\n<body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n</body>\n</html>\n');
    });
    await new Promise<void>((r) => html.listen(0, '127.0.0.1', r));
    htmlUrl = `http://127.0.0.1:${(html.address() as AddressInfo).port}/-/api/remotes/lab/export`;
  });
  afterAll(async () => {
    await new Promise((r) => html?.close(r));
  });

  it('import from a URL that refuses the connection: a coded one-line error, not a stack trace', async () => {
    const r = await repoint(['import', refusedUrl, '--token', TOKEN], configPath);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toContain(TOKEN);
    expect(r.stderr).toMatch(/^repoint: [A-Z_]+: /m); // a stable code
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack frames
  });

  it('bundle verify of a URL that refuses the connection: a coded error, not a stack trace', async () => {
    const r = await run(NODE, [MAIN, 'bundle', 'verify', refusedUrl, '--key', key], { allowFail: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^repoint: [A-Z_]+: /m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a malformed URL: a coded error, not a TypeError stack trace (import and bundle verify)', async () => {
    const bad = 'http://[bad/-/api/remotes/lab/export';
    for (const r of [await repoint(['import', bad, '--token', TOKEN], configPath), await run(NODE, [MAIN, 'bundle', 'verify', bad, '--key', key], { allowFail: true })]) {
      expect(r.code).toBe(1);
      expect(r.stderr).not.toContain(TOKEN);
      expect(r.stderr).toMatch(/^repoint: [A-Z_]+: /m);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('import from a URL answering an HTML error page: a one-line error, not the page dumped to stderr', async () => {
    const r = await repoint(['import', htmlUrl, '--token', TOKEN], configPath);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^repoint: NOT_FOUND: /);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('import - with stdin a terminal refuses at once instead of waiting for a tar from the keyboard', async () => {
    // python's pty module gives the child a terminal on stdin; nothing is typed
    const script = `
import os, pty, sys, time, select, signal
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out = b''
deadline = time.time() + 8
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try: out += os.read(fd, 4096)
        except OSError: pass
    p, st = os.waitpid(pid, os.WNOHANG)
    if p:
        sys.stdout.write('EXITED %d\\n' % os.waitstatus_to_exitcode(st)); break
else:
    sys.stdout.write('STILL RUNNING\\n'); os.kill(pid, signal.SIGKILL); os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors='replace'))
`;
    for (const args of [['import', '-', '--config', configPath], ['bundle', 'verify', '-', '--key', key]]) {
      const r = await run('python3', ['-c', script, NODE, MAIN, ...args], { allowFail: true, timeoutMs: 30_000 });
      expect(r.stdout, `repoint ${args.join(' ')}`).not.toContain('STILL RUNNING');
      expect(r.stdout).toMatch(/EXITED [12]/);
    }
  });
});

it('an import interrupted with SIGINT publishes nothing, exits 130, and does not block the next run with CHECKPOINT_RUNNING', async () => {
  const { signer, trusted } = await keys();
  const remote = remoteOf(configOf({ deb: { type: 'apt' } }), 'deb');
  const o = memoryWorld();
  const oc = new Catalogue(o.state, o.blobs);
  const pkg = Buffer.alloc(300_000, 7);
  await storePackage(o.content, pkg);
  await checkpoint(o.content, oc, 'deb', '20240101T000000Z', [Buffer.from(`${indexLine('pool/p.deb', pkg, 'sha256')}\n`)], signer);
  const tar = await exportBundle(remote, o.content, oc, signer, {});

  const dir = await mkdtemp(join(tmpdir(), 'rev7-sigint-'));
  const configPath = join(dir, 'mirror.yaml');
  await writeFile(configPath, stringify({ listen: '127.0.0.1:0', dataDir: join(dir, 'data'), logLevel: 'info', import: { trustedKeys: [...trusted.paths] }, remotes: { deb: { type: 'apt' } } }));
  const file = join(dir, 'bundle.tar');
  await writeFile(file, tar);

  // the operator's import reads the head of the bundle (and took the lease), then waits for more: Ctrl-C
  const child = spawn(NODE, [MAIN, 'import', '-', '--config', configPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = once(child, 'exit');
  child.stdin.write(tar.subarray(0, tar.length - 200_000));
  await waitFor(() => stderr.includes('importing bundle'), 'the import to start reading blobs');
  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  expect(code).toBe(130);
  expect(stderr).toContain('import interrupted; nothing published');

  // the next run, right away, is not held off by the interrupted one's lease (the harness's checkpoint
  // is not a real apt one, so this run stops later, at re-signing)
  const r = await repoint(['import', file], configPath);
  expect(r.stderr).not.toContain('CHECKPOINT_RUNNING');
  expect(r.code).not.toBe(75);
  expect(r.stderr).toMatch(/^repoint: METADATA_INVALID: .* is not an apt checkpoint/m);
});
