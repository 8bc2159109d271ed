// Figures for issue 8 findings 2 and 10, reported, never asserted: the peak RSS of `repoint serve` while
// it ingests a signed xz and gz bomb, the time to refuse a 58 MB signed InRelease, and the event-loop
// delay during a big legitimate ingest. `--src <dir>` measures another checkout (e.g. the code before
// the fix, exported with `git archive`); `--timeout <s>` bounds each bomb phase (the old code never ends).
//   node bench/hostile-input.ts [--src DIR] [--timeout 45] [--only legit,xz,zeros,gz,release]
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { createGpgKey } from '../test/fixtures/gpg.ts';
import { freePort } from '../test/helpers/ports.ts';
import { bigPackages } from './big-packages.ts';
import { buildHostileRepo, releaseText, signSuite } from '../test/upstream/hostile-repo.ts';
import { startUpstream } from '../test/upstream/server.ts';
import { waitForHttp } from './http.ts';
import { Procs } from './procs.ts';
import { readMemory } from './repoint-proc.ts';

const { values: args } = parseArgs({ options: { src: { type: 'string' }, timeout: { type: 'string', default: '45' }, only: { type: 'string' } } });
/** `--only xz,zeros` runs just those phases (legit, xz, zeros, gz, release). */
const only = args.only?.split(',');
const wanted = (p: string): boolean => only === undefined || only.includes(p);
const SRC = resolve(args.src ?? join(import.meta.dirname, '..'));
const HERE = resolve(import.meta.dirname, '..');
const NODE = join(HERE, 'node_modules/.bin/node');
const PHASE_MS = Number(args.timeout) * 1000;
const MiB = 2 ** 20;
const procs = new Procs();
process.on('SIGINT', () => void procs.cleanup().then(() => process.exit(130)));

interface Probe { maxMs: number; p99Ms: number }

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'repoint-hostile-bench-'));
  procs.addDir(dir);
  const key = await createGpgKey();
  procs.addDir(key.home);
  const repo = await buildHostileRepo(join(dir, 'repo'), key, { xzExpandsTo: 5 * 2 ** 30, gzExpandsTo: 2 * 2 ** 30 });
  const big = await bigPackages(50);
  const idx = 'main/binary-amd64';
  await mkdir(join(repo.root, 'dists/big', idx), { recursive: true });
  await writeFile(join(repo.root, 'dists/big', idx, 'Packages.xz'), big.xz);
  await signSuite(repo.root, key, 'big', releaseText('big', [
    { path: `${idx}/Packages`, size: big.size, sha256: '0'.repeat(64) },
    { path: `${idx}/Packages.xz`, size: big.xz.length, sha256: createHash('sha256').update(big.xz).digest('hex') },
  ]));
  const say = (line: string): void => console.log(`[${SRC === HERE ? 'this build' : SRC}] ${line}`);
  const upstream = await startUpstream({ root: repo.root });
  procs.onCleanup(() => upstream.stop());

  const remote = { type: 'apt', upstream: upstream.url, keyring: key.publicKeyPath };
  let run = 0;
  /** A fresh `repoint serve` per phase (its own data dir), so an unfinished phase cannot skew the next. */
  async function server(): Promise<{ url: string; pid: number; logFile: string; probeFile: string; stop: () => Promise<void> }> {
    const at = join(dir, `run${++run}`);
    await mkdir(at);
    const port = await freePort();
    const configPath = join(at, 'mirror.yaml');
    await writeFile(configPath, stringify({ listen: `127.0.0.1:${port}`, dataDir: join(at, 'data'), logLevel: 'info', remotes: { hostile: remote, good: remote } }));
    const logFile = join(at, 'repoint.log');
    const probeFile = join(at, 'probe.json');
    const child = procs.spawnServer(NODE, ['--import', join(HERE, 'bench/loop-delay-probe.ts'), join(SRC, 'src/cli/main.ts'), 'serve', '--config', configPath], logFile, { ...process.env, REPOINT_PROBE_FILE: probeFile });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/-/health`, child, logFile);
    return { url, pid: child.pid!, logFile, probeFile, stop: () => procs.stop(child, 2000) };
  }
  say(`xz bomb ${repo.xzBomb.bytes} B → ${repo.xzBomb.expandsTo / 2 ** 30} GiB (declares ${repo.xzBomb.declared / MiB} MiB); gz bomb ${repo.gzBomb.bytes} B → ${repo.gzBomb.expandsTo / 2 ** 30} GiB; legit Packages.xz ${(big.xz.length / MiB).toFixed(1)} MiB → ${(big.size / MiB).toFixed(0)} MiB, ${big.stanzas} stanzas`);

  const get = async (url: string, path: string): Promise<number> => {
    const res = await fetch(`${url}/${path}`);
    await res.arrayBuffer();
    return res.status;
  };

  /** Starts an ingestion, then samples memory, health latency and the loop until it is logged as ended (or the phase times out). */
  async function phase(name: string, suite: string, file: string, remoteName = 'hostile'): Promise<void> {
    const { url, pid, logFile, probeFile, stop } = await server();
    const logLines = async (): Promise<string[]> => (await readFile(logFile, 'utf8')).split('\n');
    await writeFile(`/proc/${pid}/clear_refs`, '5'); // VmHWM := VmRSS
    process.kill(pid, 'SIGUSR2');
    await sleep(150);
    const started = Date.now();
    await get(url, `${remoteName}/dists/${suite}/InRelease`);
    await get(url, `${remoteName}/dists/${suite}/${idx}/${file}`);
    let healthMax = 0;
    let outcome = `not finished after ${PHASE_MS / 1000} s`;
    while (Date.now() - started < PHASE_MS) {
      const t = Date.now();
      const ok = await Promise.race([get(url, '-/health').then(() => true), sleep(5000).then(() => false)]);
      healthMax = Math.max(healthMax, Date.now() - t);
      const ended = (await logLines()).find((l) => /"msg":"(index ingestion failed|indexed packages)"/.test(l));
      if (ended) { outcome = ended.includes('failed') ? `refused (${/"code":"([A-Z_]+)"/.exec(ended)?.[1] ?? 'no code'})` : 'ingested'; break; }
      if (!ok) healthMax = Math.max(healthMax, 5000);
      await sleep(100);
    }
    const ms = Date.now() - started;
    const mem = await readMemory(pid);
    const probe = JSON.parse(await readFile(probeFile, 'utf8').catch(() => '{}')) as Partial<Probe>;
    const t = Date.now();
    await stop();
    say(`${name}: ${outcome} in ${ms} ms; peak RSS ${(mem.hwmKiB / 1024).toFixed(0)} MiB; event-loop delay max ${probe.maxMs?.toFixed(0)} ms (p99 ${probe.p99Ms?.toFixed(0)} ms); slowest /-/health ${healthMax} ms; SIGTERM → exit ${Date.now() - t} ms`);
  }

  if (wanted('legit')) await phase('legit 50 MiB Packages.xz ingest', 'big', 'Packages.xz', 'good');
  if (wanted('xz')) await phase('signed xz bomb (tiny stanzas)', repo.xzBomb.suite, 'Packages.xz');
  if (wanted('zeros')) await phase('signed xz bomb (zeros)', repo.zeroBomb.suite, 'Packages.xz');
  if (wanted('gz')) await phase('signed gz bomb', repo.gzBomb.suite, 'Packages.gz');
  if (!wanted('release')) return;
  const s = await server();
  const t = Date.now();
  const status = await get(s.url, `hostile/dists/${repo.hugeRelease.suite}/InRelease`);
  say(`58 MB signed InRelease: status ${status} after ${Date.now() - t} ms`);
  await s.stop();
}

try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await procs.cleanup();
}
