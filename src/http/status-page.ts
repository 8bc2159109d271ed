import { formatBytes, formatCount, formatDuration, formatPercent } from './status-format.ts';
import type { CheckpointStatus, RemoteStatus, StatusReport } from './status-model.ts';
import { stackedBars } from './svg-chart.ts';

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const COLORS = { hit: '#2e7d32', stale: '#9e9d24', miss: '#1565c0', pass: '#8e8e8e', error: '#c62828', bytesCache: '#2e7d32', bytesUpstream: '#1565c0' };

const CSS = `
:root{font:15px/1.45 system-ui,sans-serif;color:#1d1d1f;background:#f5f5f7}
body{margin:0 auto;max-width:1100px;padding:12px}
header{display:flex;flex-wrap:wrap;gap:.3em 1em;align-items:baseline}
h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.15em;margin:0}
nav a{margin-right:.8em}a{color:#0b57d0}
.card{background:#fff;border-radius:10px;padding:12px 14px;margin:12px 0;box-shadow:0 1px 2px #0002}
.figs{display:grid;grid-template-columns:repeat(auto-fit,minmax(130px,1fr));gap:8px;margin:10px 0}
.fig{background:#f5f5f7;border-radius:8px;padding:6px 10px}.fig b{display:block;font-size:1.35em}
.fig span{font-size:.8em;color:#555}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(280px,1fr));gap:12px}
.chart{margin:0}.chart svg{height:72px;background:#fafafa;border-radius:4px}
.chart figcaption{font-size:.85em}.legend{font-size:.75em;color:#555}
.key i{display:inline-block;width:.8em;height:.8em;margin:0 .25em 0 .6em;border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:.88em}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eee;vertical-align:top}
pre{background:#f5f5f7;padding:6px 8px;border-radius:6px;font-size:.82em;margin:2px 0;white-space:pre-wrap;overflow-wrap:anywhere}
code{overflow-wrap:anywhere}.scroll{overflow-x:auto}
.ok{color:#2e7d32}.bad{color:#c62828}.muted{color:#777}.badge{font-size:.75em;background:#e8eaed;border-radius:4px;padding:1px 6px}
progress{width:140px}meter{width:100%;height:1.1em}
@media (max-width:600px){:root{font-size:14px}td,th{padding:2px 3px}}
`;

function figure(label: string, value: string, testid: string, title?: string): string {
  return `<div class="fig"${title ? ` title="${esc(title)}"` : ''}><span>${esc(label)}</span><b data-testid="${testid}">${esc(value)}</b></div>`;
}

function ago(iso: string | undefined, now: number): string {
  return iso ? `${formatDuration((now - Date.parse(iso)) / 1000)} ago` : '–';
}

function upstreamLine(r: RemoteStatus, now: number): string {
  if (r.upstreams.length === 0) return '<span class="muted">offline remote: serves imported checkpoints</span>';
  const u = r.upstream;
  const health = u.requests === 0 ? '<span class="muted">● not asked yet</span>'
    : u.healthy ? `<span class="ok">● answering</span> (last ${u.lastStatus ?? ''} ${ago(u.lastAnswerAt, now)})`
      : `<span class="bad">● failing</span> (${esc(u.lastFailure ?? '')} ${ago(u.lastFailureAt, now)})`;
  return `${r.upstreams.map((x) => `<code>${esc(x)}</code>`).join(' · ')} ${health}`;
}

function freshnessTable(r: RemoteStatus, now: number): string {
  if (r.freshness.length === 0) return '<p class="muted">No metadata served by this process yet.</p>';
  const rows = r.freshness.map((f) => `<tr><td>${esc(f.dist)}</td><td data-testid="age">${f.ageSeconds !== undefined ? formatDuration(f.ageSeconds) : '–'}</td>`
    + `<td>${f.validForSeconds !== undefined ? (f.validForSeconds >= 0 ? `in ${formatDuration(f.validForSeconds)}` : `<span class="bad">${formatDuration(f.validForSeconds)} ago</span>`) : '–'}</td>`
    + `<td>${ago(f.checkedAt, now)}</td></tr>`).join('');
  return `<div class="scroll"><table><tr><th>${r.type === 'apt' ? 'suite' : 'repository'}</th><th>upstream Date age</th><th>Valid-Until</th><th>last good refresh</th></tr>${rows}</table></div>`;
}

function downloads(r: RemoteStatus): string {
  if (r.downloads.length === 0) return '';
  const rows = r.downloads.map((d) => `<tr><td><code>${esc(d.path)}</code></td><td>${d.size ? `<progress max="${d.size}" value="${d.received}"></progress> ` : ''}`
    + `${formatBytes(d.received)}${d.size ? ` of ${formatBytes(d.size)}` : ''}</td></tr>`).join('');
  return `<h3>Downloads in flight</h3><div class="scroll"><table data-testid="downloads">${rows}</table></div>`;
}

function checkpointRows(r: RemoteStatus, list: readonly CheckpointStatus[]): string {
  if (list.length === 0) return '';
  const rows = list.map((c) => `<tr><td><a href="/${esc(r.name)}/${esc(c.ts)}/">${esc(c.ts)}</a><br><span class="muted">${formatCount(c.files)} files, ${formatBytes(c.bytes)}</span></td>`
    + `<td>${c.pin.map((l) => `<pre>${esc(l)}</pre>`).join('')}<details><summary>full client setup</summary><pre>${esc(c.setup)}</pre></details></td></tr>`).join('');
  return `<h3>Checkpoints <small class="muted">newest first</small></h3><div class="scroll"><table data-testid="checkpoints">${rows}</table></div>`;
}

function remoteCard(r: RemoteStatus, now: number): string {
  const h = r.history;
  const startMs = Date.parse(h.startAt);
  const reqChart = stackedBars('Requests by cache result', [
    { label: 'hit', color: COLORS.hit, values: h.hit }, { label: 'stale', color: COLORS.stale, values: h.stale },
    { label: 'miss', color: COLORS.miss, values: h.miss }, { label: 'pass', color: COLORS.pass, values: h.pass },
    { label: 'error', color: COLORS.error, values: h.error },
  ], String, { startMs, bucketMs: 60_000 });
  const byteChart = stackedBars('Bytes sent, by source', [
    { label: 'from cache', color: COLORS.bytesCache, values: h.bytesCache }, { label: 'from upstream', color: COLORS.bytesUpstream, values: h.bytesUpstream },
  ], formatBytes, { startMs, bucketMs: 60_000 });
  const failures = Object.entries(r.verificationFailures);
  return `<section class="card" data-remote="${esc(r.name)}">
<h2>${esc(r.name)} <span class="badge">${esc(r.type)}</span>${r.disabled ? ' <span class="bad">disabled: the reason is in the server log</span>' : ''}</h2>
<div>${upstreamLine(r, now)}</div>
<div class="figs">
${figure('requests', formatCount(r.requests.total), 'requests', `hit ${r.requests.hit}, stale ${r.requests.stale}, miss ${r.requests.miss}, pass ${r.requests.pass}, error ${r.requests.error}`)}
${figure('request hit ratio', formatPercent(r.hitRatio), 'hit-ratio', '(hit + stale) / answered requests')}
${figure('byte hit ratio', formatPercent(r.byteHitRatio), 'byte-hit-ratio', 'bytes from the cache / bytes sent')}
${figure('bytes saved', formatBytes(r.bytesFromCache), 'bytes-saved', 'sent from the cache instead of fetched upstream')}
${figure('from upstream', formatBytes(r.bytesFromUpstream), 'bytes-upstream')}
${figure('verification failures', String(failures.reduce((a, [, n]) => a + n, 0)), 'verification-failures', failures.map(([c, n]) => `${c}: ${n}`).join(', ') || 'none')}
</div>
<div class="charts">${reqChart}${byteChart}</div>
<h3>Freshness</h3>${freshnessTable(r, now)}
${downloads(r)}
${checkpointRows(r, r.checkpoints)}
<p><a href="${esc(r.links.listing)}">listing</a> · <a href="${esc(r.links.setup)}">client setup</a></p>
</section>`;
}

/** `GET /-/status`: one server-rendered page, refreshed every 10 s; no script. */
export function renderStatusPage(s: StatusReport): string {
  const now = Date.parse(s.generatedAt);
  const used = s.store.budgetBytes > 0 ? s.store.bytes / s.store.budgetBytes : 0;
  const types = [...new Set(s.remotes.map((r) => r.type))];
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="refresh" content="10"><title>repoint status</title><style>${CSS}</style></head><body>
<header><h1>repoint</h1><span class="muted">${esc(s.version)} · ${esc(s.publicUrl)} · up ${formatDuration((now - Date.parse(s.startedAt)) / 1000)} · ${esc(s.generatedAt.slice(0, 19))}Z</span></header>
<nav><a href="/-/metrics">metrics</a><a href="/-/status.json">status.json</a>${types.map((t) => `<a href="/-/setup/${esc(t)}">setup ${esc(t)}</a>`).join('')}<a href="/-/health">health</a></nav>
<section class="card"><h2>Store</h2>
<meter min="0" max="1" low="0.8" high="0.95" optimum="0.1" value="${used.toFixed(4)}" title="${formatPercent(used)} of cache.maxSize"></meter>
<div class="figs">${figure('used', formatBytes(s.store.bytes), 'store-bytes')}${figure('budget', formatBytes(s.store.budgetBytes), 'store-budget')}
${figure('blobs', formatCount(s.store.blobs), 'store-blobs')}${figure('freed by gc', formatBytes(s.store.gcFreedBytes), 'gc-freed')}
${figure('downloads in flight', String(s.fillsInFlight), 'fills')}</div></section>
${s.remotes.map((r) => remoteCard(r, now)).join('\n')}
</body></html>`;
}
