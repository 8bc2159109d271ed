/**
 * The config, defined once: it validates the YAML file (messages name the fix), produces the typed
 * Config (types.ts derives the types from it) and generates config/schema.json for editors.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { choice, duration, flag, got, httpUrl, oneOrMany, size, strict, text, wholeNumber } from './fields.ts';
import { remotesSchema } from './remote-schema.ts';
import { blobsSchema, resolveBlobs } from './blobs-schema.ts';

/** What the file's values are resolved against. */
export interface ConfigContext {
  /** The config file; relative paths in it are relative to its directory. */
  file: string;
  /** Overrides from the environment (PORT, REPOINT_DATA_DIR, REPOINT_ADMIN_TOKEN), already checked. */
  port?: number;
  dataDir?: string;
  adminToken?: string;
  /** AWS_REGION (or AWS_DEFAULT_REGION): the default of blobs.region. */
  awsRegion?: string;
}

export const includeSchema = oneOrMany(text()).prefault([])
  .describe('Files whose `remotes:` are merged in (this file wins on a name clash). Presets live in config/presets/.');

const LISTEN = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/;
const listen = text().regex(LISTEN, { error: 'expected "host:port", e.g. "0.0.0.0:8080"' }).transform((s, ctx) => {
  const m = LISTEN.exec(s);
  const port = Number(m?.[3]);
  if (port > 65535) ctx.issues.push({ code: 'custom', message: 'port must be 0-65535', input: s });
  return { host: m?.[1] ?? (m?.[2] || '0.0.0.0'), port };
});

const TEMP_MAX_AGE_FLOOR_MS = 10 * 60_000;

const cache = strict({
  maxSize: size().prefault('50GiB').describe('Size budget of the blob store. While serving, every gcInterval, least recently used blobs no kept checkpoint needs are removed until it fits.'),
  gcInterval: duration().prefault('10m').describe('How often the cache budget is checked, and abandoned temp files are swept.'),
  tempMaxAge: duration().prefault('24h')
    .refine((ms) => ms >= TEMP_MAX_AGE_FLOOR_MS, { error: 'must be at least 10m: a live download on another host sharing the directory may be silent for up to upstream.bodyTimeout' })
    .describe('A download\'s temp file untouched for this long is removed even when its owner cannot be checked (another host or container sharing the blobs directory). Temp files of dead processes on this host are removed at once.'),
  gcGrace: duration().prefault('15m')
    .describe('With blobs in object storage: GC keeps blobs stored less than this long ago, as another node may be about to write the pointer or checkpoint that names them.'),
}).transform((c) => ({ maxSizeBytes: c.maxSize, gcIntervalMs: c.gcInterval, tempMaxAgeMs: c.tempMaxAge, gcGraceMs: c.gcGrace }));

const upstream = strict({
  connectTimeout: duration().prefault('10s').describe('TCP/TLS connect timeout.'),
  bodyTimeout: duration().prefault('30s').describe('Longest silence allowed before headers or between body bytes: upstream downloads, and bundles pulled from another repoint (import URL, importFrom).'),
  retries: wholeNumber(0, 10).default(3).describe('Retries per mirror on connect errors, 408, 429 and 5xx (Retry-After honoured).'),
  connectionsPerHost: wholeNumber(1, 1024).default(16).describe('Connection pool size per upstream host.'),
  metadataDeadline: duration().prefault('30s')
    .describe('Total time a revalidation of InRelease/repomd.xml (with its signature file) may take, however steadily the bytes trickle in; past it the last verified copy is served, marked X-Repoint-Stale: UPSTREAM_DEADLINE.'),
}).transform((u) => ({
  connectTimeoutMs: u.connectTimeout,
  bodyTimeoutMs: u.bodyTimeout,
  retries: u.retries,
  connectionsPerHost: u.connectionsPerHost,
  metadataDeadlineMs: u.metadataDeadline,
}));

/** Caps on what an upstream sends, signed or not (docs/DESIGN.md "Hostile input limits"). */
const limits = strict({
  metadataMaxBytes: size().prefault('4MiB')
    .describe('Largest InRelease, Release or repomd.xml accepted; these are read whole and signature-checked. Real ones are well under 1 MiB. Larger ones are refused (METADATA_TOO_LARGE) before parsing, and the last verified copy is served.'),
  indexMaxBytes: size().prefault('1GiB')
    .describe('Decompressed size cap for Packages, Sources and primary.xml when the signed Release or repomd.xml declares none (and a ceiling when it does); decompression stops at the declared size otherwise. Beyond it the index is refused (METADATA_TOO_LARGE): a signed decompression bomb.'),
  indexLineMax: size().prefault('1MiB')
    .describe('Longest line of a Packages/Sources index, and longest text or tag of a primary.xml (METADATA_TOO_LARGE beyond it).'),
  maxFileSize: size().prefault('8GiB')
    .describe('Largest file fetched into the store (a package, an index); a file whose metadata declares no size stops here (UPSTREAM_TOO_LARGE), one declaring more is refused.'),
});

const STATE = /^(?:sqlite$|rediss?:\/\/)/;
const STATE_PROBLEM = 'expected "sqlite" or a redis URL like "redis://127.0.0.1:6379/0"';
const stateBackend = text().regex(STATE, { error: STATE_PROBLEM });
const stateOptions = strict({
  backend: stateBackend.default('sqlite').describe('"sqlite" (embedded, node:sqlite) or a Redis URL shared by several nodes.'),
  staleWindow: duration().prefault('5m')
    .describe('While the state backend is unreachable, lookups answered within this long are still served from the in-process cache (bounded by its size); others answer 503 STATE_UNAVAILABLE with Retry-After. 0 disables.'),
  leaseTtl: duration().prefault('15s')
    .describe('Lifetime of a lease (checkpoint runs, gc) unless its holder renews it: a crashed holder\'s lease lapses after at most this long.'),
  leaseRenewEvery: duration().prefault('5s').describe('How often a live holder renews its leases; well under leaseTtl.'),
}).refine((s) => s.leaseRenewEvery * 2 <= s.leaseTtl, { error: 'leaseRenewEvery must be at most half of leaseTtl, so one missed renewal does not lose the lease', path: ['leaseRenewEvery'] });
/** A string is shorthand for `{ backend: <string> }`. */
const state = z.union([stateBackend.transform((backend) => stateOptions.parse({ backend })), stateOptions], {
  error: (iss) => {
    if (typeof iss.input === 'string') return STATE_PROBLEM;
    // A mapping: the problem is the mapping branch's, named by its key.
    const inner = iss.code === 'invalid_union' && typeof iss.input === 'object' && iss.input !== null && !Array.isArray(iss.input) ? iss.errors[1]?.[0] : undefined;
    if (inner) return `${inner.path.length ? `${inner.path.map(String).join('.')}: ` : ''}${inner.message}`;
    return `${STATE_PROBLEM}, or a mapping with backend, staleWindow, leaseTtl, leaseRenewEvery; got ${got(iss.input)}`;
  },
}).transform((s) => ({ backend: s.backend, staleWindowMs: s.staleWindow, leaseTtlMs: s.leaseTtl, leaseRenewMs: s.leaseRenewEvery }));

/** Resolves a path written in `file` against the file's directory. */
export function relativeTo(file: string): (path: string) => string {
  return (p) => (isAbsolute(p) ? p : resolve(dirname(file), p));
}

/** The whole file, resolved against `ctx`. */
export function configSchema(ctx: ConfigContext) {
  const rel = relativeTo(ctx.file);
  return strict({
    include: includeSchema,
    listen: listen.prefault('0.0.0.0:8080').describe('Address to listen on, "host:port". The environment variable PORT overrides the port.'),
    dataDir: text().prefault('./data')
      .describe('Where blobs, the embedded state database and the mirror key live; relative to this file. The environment variable REPOINT_DATA_DIR overrides it.'),
    state: state.prefault('sqlite')
      .describe('Metadata state: "sqlite" (embedded, node:sqlite) or a Redis URL shared by several nodes, e.g. "redis://127.0.0.1:6379/0"; or a mapping with that as `backend` plus the stale window and lease timings.'),
    blobs: blobsSchema.prefault({}).describe('Where blobs are stored: `{ type: fs }` under dataDir/blobs (default), or `type: s3` for object storage shared by several nodes.'),
    cache: cache.prefault({}).describe('The blob store\'s size budget, kept while serving.'),
    upstream: upstream.prefault({}).describe('How repoint talks to upstream mirrors.'),
    limits: limits.prefault({}).describe('Size caps on what upstreams send: signed metadata can still be a decompression bomb, an endless line or a huge Release.'),
    signing: strict({
      key: text().optional().describe('Default: <dataDir>/keys/mirror.asc.'),
    }).prefault({}).describe('The mirror\'s own OpenPGP key, which re-signs checkpoints; created at first start when absent (ed25519, v4, mode 0600).'),
    publicUrl: httpUrl('expected an http(s) URL like "http://mirror.example:8080"').optional()
      .describe('Base URL clients use to reach this mirror, for Snapshots: fields, API answers and the /-/setup pages. Set it in production. Default: the address the node listens on (http://<hostname>:<port> when it listens on every address); never a request header.'),
    admin: strict({
      token: text().optional().describe('Bearer token (`Authorization: Bearer <token>`). Unset disables the API. The environment variable REPOINT_ADMIN_TOKEN also sets it.'),
    }).prefault({}).describe('The admin API (POST /-/api/remotes/<remote>/checkpoints).'),
    node: strict({
      internalUrl: httpUrl('expected an http(s) URL like "http://10.0.0.7:8080"').optional()
        .describe('How other nodes reach this one for /-/internal/ requests (followers of a download this node leads). Default: from `listen` (the hostname when listening on every address).'),
    }).prefault({}).describe('This node within a cluster (several nodes sharing a Redis state).'),
    logLevel: choice(['debug', 'info', 'warn', 'error']).default('info').describe('Log level on stderr (JSON lines).'),
    accessLog: strict({
      enabled: flag().default(true).describe('One flat JSON line per request (time, reqId, remote, method, path, status, bytes, cache, ms, upstreamMs).'),
      file: text().optional().describe('Write access lines to this file (appended; relative to this file) instead of the log stream on stderr.'),
    }).prefault({}).describe('The access log.'),
    metrics: strict({
      token: text().optional().describe('Bearer token required by GET /-/metrics (`Authorization: Bearer <token>`). Unset: open, like /-/health.'),
    }).prefault({}).describe('The Prometheus endpoint GET /-/metrics.'),
    shutdownGrace: duration().prefault('10s')
      .describe('On SIGTERM/SIGINT: stop accepting, let responses in flight finish for up to this long, then abort downloads and close connections.'),
    import: strict({
      trustedKeys: oneOrMany(text()).prefault([])
        .describe('OpenPGP public key files (armored or binary) whose signature a bundle must carry to be imported: the exporting node\'s /-/keys/mirror.asc. Relative to this file.'),
    }).prefault({}).describe('`repoint import` and remotes.<name>.importFrom: which exporters are trusted (air gap, chained mirrors).'),
    remotes: remotesSchema(rel).prefault({}),
  }).superRefine((c, ctx) => {
    if (c.blobs.type === 's3' && !/^rediss?:/.test(c.state.backend)) {
      ctx.addIssue({ code: 'custom', path: ['blobs', 'type'], message: 'type s3 needs `state:` on Redis (running totals and last access are shared there), e.g. state: "redis://10.0.0.5:6379/0"' });
    }
    if (!(c.remotes instanceof Map)) return; // the remotes already failed; their issue is the one to report
    const pulling = [...c.remotes.values()].find((r) => r.importFrom);
    if (pulling && c.import.trustedKeys.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['import', 'trustedKeys'], message: `remotes.${pulling.name}.importFrom needs the exporting node's key here (its /-/keys/mirror.asc): bundles are verified with it` });
    }
  }).transform((c) => {
    const dataDir = ctx.dataDir ?? rel(c.dataDir);
    const token = c.admin.token ?? ctx.adminToken;
    const admin: { token?: string } = token ? { token } : {};
    const node: { internalUrl?: string } = c.node.internalUrl !== undefined ? { internalUrl: c.node.internalUrl.replace(/\/+$/, '') } : {};
    return {
      /** Where the config was read from, for messages. */
      source: ctx.file,
      listen: { host: c.listen.host, port: ctx.port ?? c.listen.port },
      dataDir,
      state: c.state,
      blobs: resolveBlobs(c.blobs, ctx.awsRegion),
      cache: c.cache,
      upstream: c.upstream,
      limits: c.limits,
      signing: { keyPath: rel(c.signing.key ?? resolve(dataDir, 'keys/mirror.asc')) },
      ...(c.publicUrl !== undefined ? { publicUrl: c.publicUrl } : {}),
      admin,
      node,
      logLevel: c.logLevel,
      accessLog: c.accessLog.enabled ? (c.accessLog.file !== undefined ? { file: rel(c.accessLog.file) } : 'stream' as const) : 'off' as const,
      metrics: (c.metrics.token !== undefined ? { token: c.metrics.token } : {}) as { token?: string },
      shutdownGraceMs: c.shutdownGrace,
      import: { trustedKeys: c.import.trustedKeys.map(rel) },
      remotes: c.remotes,
    };
  });
}
