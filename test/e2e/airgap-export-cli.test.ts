// `repoint export` at its edges: interrupted, an output it cannot write, usage errors, a reader that
// goes away. Real processes against a loopback apt world.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCheckpoint, repoint, repointOk } from '../helpers/airgap.ts';
import { startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { MAIN, NODE } from '../helpers/cli.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { run } from '../helpers/run.ts';

const TOKEN = 'export-cli-token';

describeE2E('repoint export: interruption, output failures, usage errors', ['gpg', 'gpgv', 'dpkg-deb', 'apt-ftparchive'], () => {
  let w: AptWorld;
  let dir: string;

  beforeAll(async () => {
    w = await startAptWorld({
      packages: [{ name: 'huge', version: '1.0-1', sizeBytes: 48_000_000 }, { name: 'small', version: '1.0-1' }],
      remote: { checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN } },
    });
    dir = await tempDir('repoint-export-cli-');
    await createCheckpoint(w.proxy, w.remote, TOKEN);
    // the first export completes the on-demand checkpoint from upstream: later ones only read the store
    await repointOk(['export', w.remote, '--output', join(dir, 'warm.tar')], w.proxy.configPath);
  }, 180_000);
  afterAll(async () => { await w?.close(); });

  /** Starts an export, sends `signal` once its first output file exists; its exit and what is left in `out`. */
  async function interrupted(out: string, args: string[], signal: NodeJS.Signals): Promise<{ code: number | null; left: string[] }> {
    const child = spawn(NODE, [MAIN, 'export', w.remote, ...args, '--config', w.proxy.configPath], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    while ((await readdir(out)).length === 0 && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    child.kill(signal);
    return { code: await exited, left: await readdir(out) };
  }

  it('leaves no partial file or split part behind when interrupted (SIGTERM 143, SIGINT 130)', async () => {
    const one = await tempDir('repoint-export-term-');
    const split = await tempDir('repoint-export-int-');
    expect(await interrupted(one, ['--output', join(one, 'b.tar')], 'SIGTERM')).toEqual({ code: 143, left: [] });
    expect(await interrupted(split, ['--output', join(split, 'c.tar'), '--split', '20MiB'], 'SIGINT')).toEqual({ code: 130, left: [] });
  });

  it('an output it cannot open fails with a coded error (exit 1), not an unhandled stream error', async () => {
    for (const extra of [[], ['--split', '1MiB']]) {
      const r = await repoint(['export', w.remote, '--output', join(dir, 'no-such-dir', 'x.tar'), ...extra], w.proxy.configPath);
      expect(r.code, `${extra.join(' ')}: ${r.stdout} ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/^repoint: STORAGE_FAILED: writing the bundle failed: .*ENOENT/m);
      expect(r.stderr).not.toMatch(/Unhandled 'error' event/);
    }
  });

  it('usage errors exit 2 before any work, naming what is wrong', async () => {
    const cases = {
      unknown: ['--outptu', join(dir, 'u.tar')], missing: ['--output'], badSplit: ['--output', join(dir, 's.tar'), '--split', 'banana'], stdoutSplit: ['--output', '-', '--split', '1MiB'],
      checkpointAndAll: ['--output', join(dir, 'c.tar'), '--checkpoint', '20260101T000000Z', '--all'],
    };
    const codes: Record<string, number> = {};
    for (const [k, args] of Object.entries(cases)) {
      const r = await repoint(['export', w.remote, ...args], w.proxy.configPath);
      codes[k] = r.code;
      expect(r.stderr).not.toMatch(/^\s+at /m);
      expect(r.stderr).not.toMatch(/listing:/); // nothing planned
    }
    expect(codes).toEqual({ unknown: 2, missing: 2, badSplit: 2, stdoutSplit: 2, checkpointAndAll: 2 });
  });

  it('export --output - | head -c 100: the reader going away is one coded line, not a stack trace', async () => {
    const r = await run('bash', ['-c', `${NODE} ${MAIN} export ${w.remote} --output - --config ${w.proxy.configPath} | head -c 100 >/dev/null; echo "exit=\${PIPESTATUS[0]}" >&2`], { allowFail: true, timeoutMs: 120_000 });
    expect(r.stderr).toMatch(/repoint: STORAGE_FAILED: writing the bundle failed: its reader went away \(EPIPE\)/);
    expect(r.stderr).toMatch(/exit=1/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
