import type { Config } from '../config/types.ts';
import { publicBaseUrl } from '../config/public-url.ts';
import { RepointError } from '../errors.ts';
import { formatBytes, formatCount, formatDuration, formatPercent } from '../http/status-format.ts';
import type { RemoteStatus, StatusReport } from '../http/status-model.ts';

/** Where the running node of this config answers: loopback when it listens on every address. */
export function nodeUrl(config: Config): string {
  const { host, port } = config.listen;
  if (host === '0.0.0.0' || host === '::' || host === '') return `http://127.0.0.1:${port}`;
  return publicBaseUrl({ listen: config.listen });
}

/** `repoint status`: the status page's figures in the terminal, read from a running node's /-/status.json. */
export async function runStatus(config: Config, opts: { url?: string; out?: (s: string) => void } = {}): Promise<number> {
  const base = (opts.url ?? nodeUrl(config)).replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/-/status.json`, { signal: AbortSignal.timeout(10_000) });
  } catch (err) {
    throw new RepointError('UPSTREAM_UNAVAILABLE', `no repoint answers at ${base} (${(err as Error).message}); is it running? pass --url to name another node`);
  }
  if (res.status !== 200) throw new RepointError('UPSTREAM_BAD_STATUS', `${base}/-/status.json answered ${res.status}`);
  (opts.out ?? ((s) => process.stdout.write(s)))(formatStatus((await res.json()) as StatusReport));
  return 0;
}

export function formatStatus(s: StatusReport): string {
  const now = Date.parse(s.generatedAt);
  const out = [
    `repoint ${s.version} at ${s.publicUrl}, up ${formatDuration((now - Date.parse(s.startedAt)) / 1000)}`,
    `store: ${formatBytes(s.store.bytes)} of ${formatBytes(s.store.budgetBytes)} (${formatPercent(s.store.budgetBytes ? s.store.bytes / s.store.budgetBytes : null)}), `
      + `${formatCount(s.store.blobs)} blobs; gc freed ${formatBytes(s.store.gcFreedBytes)}; downloads in flight: ${s.fillsInFlight}`,
    '',
  ];
  for (const r of s.remotes) out.push(...remoteLines(r, now), '');
  return out.join('\n');
}

function remoteLines(r: RemoteStatus, now: number): string[] {
  const q = r.requests;
  const u = r.upstream;
  const health = r.upstreams.length === 0 ? 'offline remote'
    : u.requests === 0 ? 'not asked yet'
      : u.healthy ? `answering (last ${u.lastStatus ?? ''} ${formatDuration((now - Date.parse(u.lastAnswerAt ?? s0)) / 1000)} ago)`
        : `FAILING: ${u.lastFailure ?? ''} ${formatDuration((now - Date.parse(u.lastFailureAt ?? s0)) / 1000)} ago`;
  const lines = [
    `${r.name} (${r.type})${r.disabled ? ' DISABLED: see the server log' : ''}`,
    `  upstream   ${r.upstreams.join(', ') || '-'}: ${health}`,
    `  requests   ${q.total} (hit ${q.hit}, stale ${q.stale}, miss ${q.miss}, pass ${q.pass}, error ${q.error}); hit ratio ${formatPercent(r.hitRatio)}`,
    `  bytes      ${formatBytes(r.bytesFromCache)} from cache (saved), ${formatBytes(r.bytesFromUpstream)} from upstream; byte hit ratio ${formatPercent(r.byteHitRatio)}`,
  ];
  const failures = Object.entries(r.verificationFailures);
  if (failures.length) lines.push(`  failed verification  ${failures.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  for (const f of r.freshness) {
    lines.push(`  ${f.dist.padEnd(10)} upstream Date ${f.ageSeconds !== undefined ? `${formatDuration(f.ageSeconds)} old` : 'unknown'}`
      + `${f.validForSeconds !== undefined ? `, Valid-Until ${f.validForSeconds >= 0 ? `in ${formatDuration(f.validForSeconds)}` : `PASSED ${formatDuration(f.validForSeconds)} ago`}` : ''}`
      + `, refreshed ${formatDuration((now - Date.parse(f.checkedAt)) / 1000)} ago`);
  }
  for (const d of r.downloads) lines.push(`  downloading ${d.path}: ${formatBytes(d.received)}${d.size ? ` of ${formatBytes(d.size)}` : ''}`);
  for (const c of r.checkpoints) lines.push(`  checkpoint ${c.ts}: ${formatCount(c.files)} files, ${formatBytes(c.bytes)}${c.pin.length ? `\n    ${c.pin.join('\n    ')}` : ''}`);
  return lines;
}

const s0 = '1970-01-01T00:00:00Z';
