// CPU time repoint spends per hot request, read from /proc: unlike req/s it barely moves when other
// work shares the machine, so it compares two commits on a busy box.
// Usage: node bench/cpu.ts [other-checkout ...]   (env: BENCH_DURATION seconds per case, default 10)
// Each checkout (this one first) serves the same fixtures in turn; the table gives µs of CPU per request.
import { join, resolve } from 'node:path';
import { Agent } from 'undici';
import { freePort } from '../test/helpers/ports.ts';
import { buildFixtures, type BenchFile } from './fixtures.ts';
import { mustGet } from './http.ts';
import { startNginx, upstreamConf } from './nginx.ts';
import { Procs } from './procs.ts';
import { startRepoint } from './repoint-proc.ts';
import { benchWorkspace, ensureTools } from './setup.ts';
import { runWrk } from './wrk.ts';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

interface Row {
  checkout: string;
  file: string;
  requests: number;
  cpuUsPerReq: number;
  reqPerSec: number;
}

async function main(procs: Procs): Promise<void> {
  const durationS = Number(process.env.BENCH_DURATION ?? '10');
  const checkouts = [resolve(import.meta.dirname, '..'), ...process.argv.slice(2).map((p) => resolve(p))];
  await ensureTools(procs, log);
  const { work, key } = await benchWorkspace(procs, 'repoint-bench-cpu-');
  const fx = await buildFixtures(join(work, 'www'), key);
  const upPort = await freePort();
  const limPort = await freePort();
  await startNginx(procs, join(work, 'nginx'), upstreamConf({
    dir: join(work, 'nginx'), www: fx.www, port: upPort, limitedPort: limPort, limitRate: '40m',
    accessLog: join(work, 'nginx', 'access.log'), workers: 1,
  }), `http://127.0.0.1:${upPort}/apt/${fx.apt.inRelease.path}`);
  const files: Array<[string, BenchFile, number]> = [
    ['Packages index', fx.apt.index, 32], ['50 KiB .deb', fx.apt.small, 32], ['10 MiB .deb', fx.apt.big10, 4],
  ];
  const rows: Row[] = [];
  const agent = new Agent({ connections: 8 });
  try {
    for (const [i, checkout] of checkouts.entries()) {
      log(`repoint from ${checkout}`);
      const rp = await startRepoint(procs, {
        dir: join(work, `repoint-${i}`), checkout,
        remotes: { hot: { type: 'apt', upstream: `http://127.0.0.1:${upPort}/apt`, keyring: key.publicKeyPath } },
      });
      await mustGet(`${rp.url}/hot/${fx.apt.inRelease.path}`, agent);
      for (const [label, file, connections] of files) {
        const url = `${rp.url}/hot/${file.path}`;
        for (let w = 0; w < 3; w++) await mustGet(url, agent, file.size);
        const before = await rp.cpuMs();
        const r = await runWrk(procs, url, { threads: 2, connections, durationS });
        const used = (await rp.cpuMs()) - before;
        if (r.errors > 0) throw new Error(`${label}: wrk saw ${r.errors} errors`);
        rows.push({ checkout, file: label, requests: r.requests, cpuUsPerReq: (used * 1000) / r.requests, reqPerSec: r.reqPerSec });
        log(`  ${label}: ${r.requests} requests, ${(used * 1000 / r.requests).toFixed(1)} µs CPU each`);
      }
      await procs.stop(rp.child);
    }
  } finally {
    await agent.close();
  }
  process.stdout.write('checkout\tfile\trequests\tCPU µs/request\treq/s\n');
  for (const r of rows) {
    process.stdout.write(`${r.checkout}\t${r.file}\t${r.requests}\t${r.cpuUsPerReq.toFixed(1)}\t${r.reqPerSec.toFixed(0)}\n`);
  }
}

const procs = new Procs();
try {
  await main(procs);
} catch (err) {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
} finally {
  await procs.cleanup();
}
