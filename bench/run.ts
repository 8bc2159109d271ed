// repoint vs nginx on loopback: hot hits, 10 MiB throughput, cold fan-in, RSS, RPM.
// Usage: node bench/run.ts   (env: BENCH_DURATION seconds per wrk run, default 10;
// BENCH_CLIENTS fan-in clients, default 20; BENCH_NGINX_WORKERS, default 1;
// BENCH_CPU_PROF=<dir> runs repoint with --cpu-prof and keeps the profile there)
import { cpus, loadavg } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Agent } from 'undici';
import { freePort } from '../test/helpers/ports.ts';
import { runFanIn, type FanInResult } from './fanin.ts';
import { buildFixtures } from './fixtures.ts';
import { size } from './format.ts';
import { runHot, warm, type HotCase, type HotResult } from './hot.ts';
import { mustGet } from './http.ts';
import { cacheConf, startNginx, upstreamConf } from './nginx.ts';
import { Procs } from './procs.ts';
import { renderReport, type MemoryPoint } from './report.ts';
import { startRepoint } from './repoint-proc.ts';
import { runRpm } from './rpm.ts';
import { benchWorkspace, ensureTools } from './setup.ts';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

function envInt(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive whole number, got ${JSON.stringify(raw)}`);
  return n;
}

async function main(procs: Procs): Promise<void> {
  const durationS = envInt('BENCH_DURATION', 10);
  const clients = envInt('BENCH_CLIENTS', 20);
  const workersRaw = process.env.BENCH_NGINX_WORKERS ?? '1';
  const workers = workersRaw === 'auto' ? 'auto' : envInt('BENCH_NGINX_WORKERS', 1);
  const cpuProfDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
  const started = Date.now();
  const loadStart = load();

  await ensureTools(procs, log);
  const { work, key } = await benchWorkspace(procs, 'repoint-bench-');

  log('building fixtures (apt: 20 tiny + 50 KiB + 2x10 MiB + 60 MiB .debs; yum: 50 KiB + 10 MiB RPMs)...');
  const fx = await buildFixtures(join(work, 'www'), key);
  log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s; Packages index ${size(fx.apt.index.size)}`);

  const [upPort, limPort, cachePort] = [await freePort(), await freePort(), await freePort()];
  const accessLog = join(work, 'nginx-upstream', 'limited-access.log');
  const probe = (port: number): string => `http://127.0.0.1:${port}/apt/${fx.apt.inRelease.path}`;
  await startNginx(procs, join(work, 'nginx-upstream'), upstreamConf({
    dir: join(work, 'nginx-upstream'), www: fx.www, port: upPort, limitedPort: limPort, limitRate: '40m', accessLog, workers,
  }), probe(upPort));
  await startNginx(procs, join(work, 'nginx-cache'), cacheConf({ dir: join(work, 'nginx-cache'), port: cachePort, upstreamPort: upPort, workers }), probe(cachePort));
  if (cpuProfDir) await mkdir(cpuProfDir, { recursive: true });
  const rp = await startRepoint(procs, {
    dir: join(work, 'repoint'),
    remotes: {
      hot: { type: 'apt', upstream: `http://127.0.0.1:${upPort}/apt`, keyring: key.publicKeyPath },
      cold: { type: 'apt', upstream: `http://127.0.0.1:${limPort}/apt`, keyring: key.publicKeyPath },
    },
    ...(cpuProfDir ? { cpuProfDir } : {}),
  });

  const agent = new Agent({ connections: 8 });
  try {
    // repoint learns pool paths from the indexes it serves: InRelease first, then Packages
    for (const remote of ['hot', 'cold']) {
      await mustGet(`${rp.url}/${remote}/${fx.apt.inRelease.path}`, agent);
      await mustGet(`${rp.url}/${remote}/${fx.apt.index.path}`, agent, fx.apt.index.size);
    }
    const small = { threads: 2, connections: 32, durationS };
    const large = { threads: 2, connections: 4, durationS };
    const cases: HotCase[] = [
      { id: 'index', label: `Packages index (${size(fx.apt.index.size)})`, file: fx.apt.index, metric: 'req/s', wrk: small },
      { id: 'deb50', label: `small .deb (${size(fx.apt.small.size)})`, file: fx.apt.small, metric: 'req/s', wrk: small },
      { id: 'deb10m', label: `large .deb (${size(fx.apt.big10.size)})`, file: fx.apt.big10, metric: 'MiB/s', wrk: large },
    ];
    const bases = {
      repoint: `${rp.url}/hot`,
      'nginx proxy_cache': `http://127.0.0.1:${cachePort}/apt`,
      'nginx static': `http://127.0.0.1:${upPort}/apt`,
    };
    await warm(bases, cases, agent);
    // VmHWM is reset before each phase, so each row is that phase's own peak
    const memory: MemoryPoint[] = [{ phase: 'start + warm-up', memory: await rp.memory() }];
    const hot: HotResult[] = [];
    log('hot hits:');
    await rp.resetPeak();
    for (const c of cases.filter((x) => x.metric === 'req/s')) hot.push(...(await runHot(procs, bases, c, log)));
    memory.push({ phase: 'hot index + 50 KiB .deb (wrk -c32)', memory: await rp.memory() });
    await rp.resetPeak();
    for (const c of cases.filter((x) => x.metric === 'MiB/s')) hot.push(...(await runHot(procs, bases, c, log)));
    memory.push({ phase: 'hot 10 MiB .deb (wrk -c4)', memory: await rp.memory() });

    const fanIns: FanInResult[] = [];
    for (const file of [fx.apt.cold10, fx.apt.big60]) {
      log(`cold fan-in: ${clients} clients, ${size(file.size)}`);
      const f = await runFanIn({
        repoint: rp, repointBase: `${rp.url}/cold`, limitedBase: `http://127.0.0.1:${limPort}/apt`, upstreamPathPrefix: '/apt',
        accessLog, file, clients, agent,
      });
      fanIns.push(f);
      memory.push({ phase: `cold fan-in ${size(file.size)} x${clients}`, memory: f.memory });
    }

    log('rpm case:');
    const rpm = await runRpm(procs, {
      dir: work, yum: fx.yum, key, staticBase: `http://127.0.0.1:${upPort}/yum`, small, large, agent, log,
    });
    await procs.stop(rp.child); // a clean exit writes the CPU profile
    const notes = [
      `${cpus().length} CPUs; wrk, the servers and the fan-in clients share them; load average at start ${loadStart}, at end ${load()}`,
      `nginx runs worker_processes ${workers}, like single-threaded Node (BENCH_NGINX_WORKERS to change)`,
      `wrk -d${durationS}s per run; fan-in clients are undici in the bench process, TTFB = request start to first body byte`,
      `total bench time ${((Date.now() - started) / 1000).toFixed(0)} s`,
      ...(cpuProfDir ? [`repoint CPU profile written to ${cpuProfDir}`] : []),
    ];
    process.stdout.write(`${renderReport({ hot, fanIns, memory, rpm, notes })}\n`);
  } finally {
    await agent.close();
  }
}

const procs = new Procs();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    log(`${signal}: stopping bench processes and removing temp dirs`);
    void procs.cleanup().finally(() => process.exit(130));
  });
}
try {
  await main(procs);
} catch (err) {
  if (!interrupted) log(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
} finally {
  await procs.cleanup();
}
