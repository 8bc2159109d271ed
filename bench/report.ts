import type { FanInResult } from './fanin.ts';
import { fixed, mib, ms, size, table } from './format.ts';
import { median } from './http.ts';
import { valueOf, type HotResult, type ServerName } from './hot.ts';
import type { Memory } from './repoint-proc.ts';
import type { RpmOutcome } from './rpm.ts';

export interface MemoryPoint {
  phase: string;
  memory: Memory;
}

export interface BenchResults {
  hot: HotResult[];
  fanIns: FanInResult[];
  memory: MemoryPoint[];
  rpm: RpmOutcome;
  notes: string[];
}

export interface Verdict {
  target: string;
  measured: string;
  pass: boolean;
}

/** RSS counts as flat when the bigger file's fan-in peaks at most this much above the smaller's (same clients). */
export const RSS_FLAT_SLACK_KIB = 16 * 1024;

function hotTable(rows: readonly HotResult[]): string {
  return table(
    ['case', 'server', 'req/s', 'MiB/s', 'latency avg', 'errors'],
    rows.map((r) => [
      r.hotCase.label, r.server, fixed(r.wrk.reqPerSec), fixed(r.wrk.bytesPerSec / 1024 ** 2, 1), ms(r.wrk.latencyAvgMs), String(r.wrk.errors),
    ]),
  );
}

function fanInTable(rows: readonly FanInResult[]): string {
  return table(
    ['file', 'clients', 'complete', 'wall', '1 direct', 'wall/1 direct', `direct x${rows[0]?.clients ?? ''}`, 'upstream fetches', 'TTFB median', 'TTFB max', `TTFB med direct x${rows[0]?.clients ?? ''}`],
    rows.map((f) => [
      size(f.file.size), String(f.clients), String(f.complete), ms(f.wallMs), ms(f.direct.totalMs), `${(f.wallMs / f.direct.totalMs).toFixed(2)}x`,
      ms(f.directFan.wallMs), String(f.upstreamFetches), ms(f.ttfbMedianMs), ms(f.ttfbMaxMs), ms(median(f.directFan.clients.map((c) => c.ttfbMs))),
    ]),
  );
}

function find(hot: readonly HotResult[], id: string, server: ServerName): HotResult | undefined {
  return hot.find((r) => r.hotCase.id === id && r.server === server);
}

function ratioVerdict(hot: readonly HotResult[], id: string, min: number, what: string): Verdict | undefined {
  const rp = find(hot, id, 'repoint');
  const cache = find(hot, id, 'nginx proxy_cache');
  const stat = find(hot, id, 'nginx static');
  if (!rp || !cache) return undefined;
  const ratio = valueOf(rp) / valueOf(cache);
  const vsStatic = stat ? `, ${(valueOf(rp) / valueOf(stat)).toFixed(2)}x static` : '';
  const unit = rp.hotCase.metric;
  return {
    target: `${what} >= ${min}x nginx proxy_cache`,
    measured: `${fixed(valueOf(rp), unit === 'req/s' ? 0 : 1)} vs ${fixed(valueOf(cache), unit === 'req/s' ? 0 : 1)} ${unit} = ${ratio.toFixed(2)}x${vsStatic}`,
    pass: ratio >= min && rp.wrk.errors === 0,
  };
}

export function verdicts(r: BenchResults): Verdict[] {
  const out: Verdict[] = [];
  const push = (v: Verdict | undefined): void => void (v && out.push(v));
  push(ratioVerdict(r.hot, 'index', 0.5, 'hot index req/s'));
  push(ratioVerdict(r.hot, 'deb50', 0.5, 'hot 50 KiB .deb req/s'));
  push(ratioVerdict(r.hot, 'deb10m', 0.9, 'hot 10 MiB .deb MiB/s'));
  for (const f of r.fanIns) {
    const label = `cold fan-in ${size(f.file.size)} x${f.clients}`;
    const ratio = f.wallMs / f.direct.totalMs;
    out.push({ target: `${label}: wall <= 1.2x one direct download`, measured: `${ms(f.wallMs)} vs ${ms(f.direct.totalMs)} = ${ratio.toFixed(2)}x (${f.clients} direct clients: ${ms(f.directFan.wallMs)})`, pass: ratio <= 1.2 && f.complete === f.clients });
    out.push({ target: `${label}: exactly 1 upstream fetch`, measured: String(f.upstreamFetches), pass: f.upstreamFetches === 1 });
    out.push({ target: `${label}: median TTFB <= 50 ms`, measured: ms(f.ttfbMedianMs), pass: f.ttfbMedianMs <= 50 });
  }
  const [smaller, bigger] = r.fanIns;
  if (smaller && bigger) {
    const growth = bigger.memory.hwmKiB - smaller.memory.hwmKiB;
    out.push({
      target: `RSS flat: peak RSS in ${size(bigger.file.size)} fan-in <= in ${size(smaller.file.size)} fan-in + ${mib(RSS_FLAT_SLACK_KIB)}`,
      measured: `${mib(bigger.memory.hwmKiB)} vs ${mib(smaller.memory.hwmKiB)} (+${mib(growth)})`,
      pass: growth <= RSS_FLAT_SLACK_KIB,
    });
  }
  return out;
}

export function renderReport(r: BenchResults): string {
  const parts: string[] = [];
  parts.push('== hot hits (warmed; wrk) ==', hotTable(r.hot), '');
  parts.push('== cold fan-in through repoint (upstream limit_rate 40m per connection) ==', fanInTable(r.fanIns), '');
  parts.push('== repoint process memory (/proc/<pid>/status; VmHWM reset via clear_refs before each phase) ==');
  parts.push(table(['phase', 'peak RSS in phase (VmHWM)', 'VmRSS at end'], r.memory.map((m) => [m.phase, mib(m.memory.hwmKiB), mib(m.memory.rssKiB)])), '');
  parts.push('== rpm (yum remote) ==');
  if ('skipped' in r.rpm) parts.push(`rpm: skipped (${r.rpm.skipped})`, '');
  else {
    parts.push(hotTable(r.rpm.results));
    for (const id of ['rpm-small', 'rpm-large']) {
      const rp = find(r.rpm.results, id, 'repoint');
      const st = find(r.rpm.results, id, 'nginx static');
      if (rp && st) parts.push(`  ${rp.hotCase.label}: repoint/nginx static = ${(valueOf(rp) / valueOf(st)).toFixed(2)}x (${rp.hotCase.metric})`);
    }
    parts.push('');
  }
  parts.push('== targets ==');
  parts.push(table(['', 'target', 'measured'], verdicts(r).map((v) => [v.pass ? 'PASS' : 'MISS', v.target, v.measured])));
  if (r.notes.length) parts.push('', ...r.notes.map((n) => `note: ${n}`));
  return parts.join('\n');
}
