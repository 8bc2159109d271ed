import type { RemoteConfig } from '../config/types.ts';
import type { RemoteMeters } from '../ops/remote-meters.ts';
import { repositoryTypes } from '../registry.ts';
import type { Runtime } from '../runtime.ts';
import type { MetadataFreshness } from '../serve/remote-handler.ts';
import { VERSION } from '../version.ts';
import { freshnessOf, nodeBlobTotals } from './metrics-route.ts';
import { setupText } from './setup-routes.ts';

/** `GET /-/status.json`: what the status page and `repoint status` show. Times are ISO strings. */
export interface StatusReport {
  version: string;
  generatedAt: string;
  startedAt: string;
  publicUrl: string;
  store: { blobs: number; bytes: number; budgetBytes: number; gcFreedBytes: number };
  fillsInFlight: number;
  remotes: RemoteStatus[];
}

export interface RemoteStatus {
  name: string;
  type: string;
  upstreams: string[];
  /** Why the remote is disabled (the detail is in the server log). */
  disabled?: string;
  upstream: { requests: number; failures: number; bytes: number; lastAnswerAt?: string; lastStatus?: number; lastFailureAt?: string; lastFailure?: string; healthy: boolean };
  requests: { hit: number; miss: number; stale: number; pass: number; error: number; total: number };
  /** (hit + stale) / every answered request; null before any. */
  hitRatio: number | null;
  /** bytes from the cache / every body byte sent; null before any. */
  byteHitRatio: number | null;
  bytesFromCache: number;
  bytesFromUpstream: number;
  verificationFailures: Record<string, number>;
  freshness: Array<{ dist: string; date?: string; ageSeconds?: number; validUntil?: string; validForSeconds?: number; checkedAt: string }>;
  downloads: Array<{ path: string; received: number; size?: number; startedAt: string }>;
  checkpoints: CheckpointStatus[];
  /** Per minute, oldest first, the last hour: requests by cache result and body bytes by source. */
  history: { startAt: string; hit: number[]; miss: number[]; stale: number[]; pass: number[]; error: number[]; bytesCache: number[]; bytesUpstream: number[] };
  links: { listing: string; setup: string };
}

export interface CheckpointStatus {
  ts: string;
  createdAt: string;
  files: number;
  bytes: number;
  /** The lines of the type's client setup (GET /-/setup/<type>) that pin to this checkpoint. */
  pin: string[];
  /** The full client setup for this remote with this checkpoint as the example. */
  setup: string;
}

/** Checkpoints shown per remote, newest first. */
const CHECKPOINTS_SHOWN = 5;

const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
const ratio = (a: number, total: number): number | null => (total > 0 ? a / total : null);

export async function buildStatus(rt: Runtime): Promise<StatusReport> {
  const now = Date.now();
  const totals = await nodeBlobTotals(rt);
  const freshness = await freshnessOf(rt);
  const remotes: RemoteStatus[] = [];
  for (const rc of rt.config.remotes.values()) remotes.push(await remoteStatus(rt, rc, rt.ops.meter(rc.name), freshness.get(rc.name) ?? [], now));
  return {
    version: VERSION, generatedAt: new Date(now).toISOString(), startedAt: new Date(rt.ops.startedMs).toISOString(), publicUrl: rt.publicUrl(),
    store: { blobs: totals.count, bytes: totals.bytes, budgetBytes: rt.config.cache.maxSizeBytes, gcFreedBytes: rt.ops.gcFreedBytes },
    fillsInFlight: rt.content.fills.active,
    remotes,
  };
}

async function remoteStatus(rt: Runtime, rc: RemoteConfig, m: RemoteMeters, fresh: readonly MetadataFreshness[], now: number): Promise<RemoteStatus> {
  const [hit, miss, stale, pass, error] = Array.from(m.byCache);
  const total = hit! + miss! + stale! + pass! + error!;
  const upstreamRequests = [...m.upstreamByStatus.values()].reduce((a, b) => a + b, 0);
  const failures = m.upstreamByStatus.get(0) ?? 0;
  const u = m.upstream;
  const snap = m.history.snapshot(now);
  return {
    name: rc.name, type: rc.type, upstreams: [...rc.upstreams],
    ...(rc.unavailable ? { disabled: 'disabled; the reason is in the server log' } : {}),
    upstream: {
      requests: upstreamRequests, failures, bytes: m.upstreamBytes,
      ...(u.lastOkMs !== undefined ? { lastAnswerAt: iso(u.lastOkMs)!, lastStatus: u.lastStatus! } : {}),
      ...(u.lastErrorMs !== undefined ? { lastFailureAt: iso(u.lastErrorMs)!, lastFailure: u.lastError! } : {}),
      // healthy unless the last thing upstream did was fail
      healthy: u.lastErrorMs === undefined || (u.lastOkMs ?? 0) > u.lastErrorMs,
    },
    requests: { hit: hit!, miss: miss!, stale: stale!, pass: pass!, error: error!, total },
    hitRatio: ratio(hit! + stale!, total - error!),
    byteHitRatio: ratio(m.bytesFromCache, m.bytesFromCache + m.bytesFromUpstream),
    bytesFromCache: m.bytesFromCache,
    bytesFromUpstream: m.bytesFromUpstream,
    verificationFailures: Object.fromEntries(m.verificationFailures),
    freshness: fresh.map((f) => ({
      dist: f.dist, checkedAt: iso(f.checkedMs)!,
      ...(f.dateMs !== undefined ? { date: iso(f.dateMs)!, ageSeconds: Math.round((now - f.dateMs) / 1000) } : {}),
      ...(f.validUntilMs !== undefined ? { validUntil: iso(f.validUntilMs)!, validForSeconds: Math.round((f.validUntilMs - now) / 1000) } : {}),
    })),
    downloads: [...rt.ops.downloads].filter((d) => d.remote === rc.name).map((d) => ({
      path: d.path, received: d.received, ...(d.size !== undefined ? { size: d.size } : {}), startedAt: iso(d.startedMs)!,
    })),
    checkpoints: await checkpoints(rt, rc),
    history: { startAt: iso(snap.startMs)!, ...snap.series },
    links: { listing: `/${rc.name}/`, setup: `/-/setup/${rc.type}` },
  };
}

async function checkpoints(rt: Runtime, rc: RemoteConfig): Promise<CheckpointStatus[]> {
  const type = repositoryTypes.get(rc.type);
  const entries = (await rt.checkpoints.catalogue.list(rc.name).catch(() => [])).slice(-CHECKPOINTS_SHOWN).reverse();
  const out: CheckpointStatus[] = [];
  for (const e of entries) {
    const setup = type ? await setupText(rt, type, [rc], e.ts).catch(() => '') : '';
    // reuse the setup page's own lines: the source line, `apt -S`, the pinned baseurl
    const pin = setup.split('\n').filter((l) => l.includes(e.ts)).map((l) => l.replace(/^#\s*/, ''));
    out.push({ ts: e.ts, createdAt: e.createdAt, files: e.files, bytes: e.bytes, pin, setup });
  }
  return out;
}
