import type { Procs } from './procs.ts';
import { toolPath } from './setup.ts';

export interface WrkOptions {
  threads: number;
  connections: number;
  durationS: number;
}

export interface WrkResult {
  requests: number;
  reqPerSec: number;
  bytesPerSec: number;
  latencyAvgMs: number;
  /** non-2xx/3xx responses plus socket errors: any of these makes the run suspect */
  errors: number;
}

const UNITS: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function num(text: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (!m) throw new Error(`wrk output has no ${what}:\n${text}`);
  return m;
}

/** Parses wrk 4.x's default report (units are binary: 1 MB = 1024² bytes). */
export function parseWrk(text: string): WrkResult {
  const rps = num(text, /^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec');
  const tps = num(text, /^Transfer\/sec:\s+([\d.]+)([KMGT]?B)/m, 'Transfer/sec');
  const total = num(text, /^\s+(\d+) requests in/m, 'request count');
  const lat = num(text, /^\s+Latency\s+([\d.]+)(us|ms|s|m|h)/m, 'latency');
  const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(text);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const sockErrors = sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return {
    requests: Number(total[1]),
    reqPerSec: Number(rps[1]),
    bytesPerSec: Number(tps[1]) * (UNITS[tps[2] ?? 'B'] ?? 1),
    latencyAvgMs: Number(lat[1]) * (TIME[lat[2] ?? 'ms'] ?? 1),
    errors: (non2xx ? Number(non2xx[1]) : 0) + sockErrors,
  };
}

export async function runWrk(procs: Procs, url: string, o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--timeout', '10s', url];
  const res = await procs.exec(toolPath('wrk'), args, (o.durationS + 30) * 1000);
  if (res.code !== 0) throw new Error(`wrk ${args.join(' ')} exited ${res.code}\n${res.stdout}\n${res.stderr}`);
  return parseWrk(res.stdout);
}
