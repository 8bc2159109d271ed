// Preloaded into a measured server (`node --import bench/loop-delay-probe.ts ...`): samples its event-loop
// delay with perf_hooks and writes the max and p99 (ms) to $REPOINT_PROBE_FILE every 100 ms. SIGUSR2
// starts a new phase (resets the histogram). Needs no change to the server, so old builds can be measured.
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

const file = process.env['REPOINT_PROBE_FILE'];
if (file) {
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  const dump = (): void => writeFileSync(file, JSON.stringify({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6 }));
  setInterval(dump, 100).unref();
  process.on('SIGUSR2', () => { h.reset(); dump(); });
}
