// Issue 8 finding 2, in process: ingests one signed-index blob through the apt PoolIndex on a real
// sqlite state and reports how long the event loop was held (the longest gap of a 1 ms interval timer),
// the CPU spent and the slowest state write. Figures are reported, never asserted.
//   node [--cpu-prof] bench/ingest-loop.ts [--kind legit|tiny] [--mib 50]
// legit: a ~50 MiB Packages in Debian's shape; tiny: a bomb of 12-byte stanzas expanding to 2×mib MiB
// whose Release declares `mib` MiB (refused there with METADATA_TOO_LARGE).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PoolIndex } from '../src/apt/pool-index.ts';
import { FsBlobStore } from '../src/blobs/fs-blob-store.ts';
import { silentLogger } from '../src/log.ts';
import { openSqliteState } from '../src/state/open-state.ts';
import { bigPackages, tinyStanzas } from './big-packages.ts';

const { values: args } = parseArgs({ options: { kind: { type: 'string', default: 'legit' }, mib: { type: 'string', default: '50' } } });
const MiB = 2 ** 20;
const mib = Number(args.mib);
const dir = await mkdtemp(join(tmpdir(), 'repoint-ingest-loop-'));
try {
  const blobs = await FsBlobStore.open(join(dir, 'blobs'));
  const state = openSqliteState(join(dir, 'state.sqlite'));
  const legit = args.kind === 'legit';
  const data = legit ? await bigPackages(mib) : { xz: await tinyStanzas(2 * mib), size: mib * MiB, stanzas: 0 };
  const w = await blobs.createWriter();
  await w.write(data.xz);
  const { sha256 } = await w.commit();

  let slowestWrite = 0;
  let writes = 0;
  const setMany = state.setMany.bind(state);
  state.setMany = async (entries) => {
    const t = performance.now();
    await setMany(entries);
    slowestWrite = Math.max(slowestWrite, performance.now() - t);
    writes++;
  };
  const pool = new PoolIndex('bench', state, blobs, silentLogger);
  const gaps: number[] = [];
  let last = performance.now();
  const tick = setInterval(() => { const now = performance.now(); gaps.push(now - last); last = now; }, 1);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const outcome = await pool.ingest({ sha256, root: '', path: 'main/binary-amd64/Packages.xz', dir: 'dists/x', openSize: data.size }, true)
    .then(() => 'ingested', (err: unknown) => `refused (${(err as { code?: string }).code ?? String(err)})`);
  const ms = performance.now() - started;
  const used = process.cpuUsage(cpu);
  clearInterval(tick);
  gaps.sort((a, b) => a - b);
  const q = (p: number): string => (gaps[Math.min(gaps.length - 1, Math.floor(gaps.length * p))] ?? 0).toFixed(0);
  console.log(`${args.kind} ${(data.size / MiB).toFixed(0)} MiB (${data.stanzas || 'tiny'} stanzas): ${outcome} in ${ms.toFixed(0)} ms, CPU ${((used.user + used.system) / 1000).toFixed(0)} ms; ` +
    `loop held max ${q(1)} ms (p99 ${q(0.99)}, p999 ${q(0.999)}; ${gaps.filter((g) => g > 50).length} gaps > 50 ms); ${writes} state writes, slowest ${slowestWrite.toFixed(0)} ms`);
  await state.close();
} finally {
  await rm(dir, { recursive: true, force: true });
}
