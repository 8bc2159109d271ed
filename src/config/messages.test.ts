import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isRepointError } from '../errors.ts';
import { loadConfig } from './load.ts';

let dir: string;
let keyring: string;
let n = 0;

async function refusal(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const file = join(dir, `c${n++}.yaml`);
  await writeFile(file, yaml);
  try {
    loadConfig(file, env);
  } catch (err) {
    expect(isRepointError(err) && err.code).toBe('CONFIG_INVALID');
    return (err as Error).message;
  }
  throw new Error(`expected the config to be refused:\n${yaml}`);
}

/** A config whose only apt remote "deb" has `extra` added. */
const apt = (extra = ''): string => `remotes:\n  deb:\n    upstream: "http://127.0.0.1:1"\n    keyring: "${keyring}"\n${extra}`;
/** A config whose only yum remote "f" has `extra` added. */
const yum = (extra = ''): string => `remotes:\n  f:\n    type: yum\n    upstream: "https://127.0.0.1:1"\n${extra}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-config-messages-'));
  keyring = join(dir, 'k.gpg');
  await writeFile(keyring, 'not parsed here');
  await writeFile(join(dir, 'bad-preset.yaml'), 'remotes: [a]\n');
  await writeFile(join(dir, 'proto-preset.yaml'), `remotes:\n  __proto__: { upstream: "http://127.0.0.1:1", keyring: "${keyring}" }\n`);
});

describe('config errors start with the key path and say the fix', () => {
  it.each([
    ['top-level typo', `lisen: ":1"\n${apt()}`, /^\(top level\): unknown key "lisen" \(valid keys: include, listen, dataDir, state, blobs, cache, upstream, limits, signing, publicUrl, admin, node, logLevel, accessLog, metrics, shutdownGrace, import, remotes\)$/],
    ['not a mapping', '- a\n', /^\(top level\): expected a mapping, got \["a"\]$/],
    ['include', `include: [""]\n${apt()}`, /^include\[0\]: expected a non-empty string, got ""$/],
    ['missing include', `include: nope.yaml\n${apt()}`, /^include: file not found: .*nope\.yaml$/],
    ['included remotes', `include: bad-preset.yaml\n${apt()}`, /^include\(bad-preset\.yaml\)\.remotes: expected a mapping of remote names, got \["a"\]$/],
    ['listen', `listen: "8080"\n${apt()}`, /^listen: expected "host:port", e\.g\. "0\.0\.0\.0:8080"$/],
    ['listen port', `listen: ":70000"\n${apt()}`, /^listen: port must be 0-65535$/],
    ['dataDir', `dataDir: ""\n${apt()}`, /^dataDir: expected a non-empty string, got ""$/],
    ['state', `state: redis\n${apt()}`, /^state: expected "sqlite" or a redis URL like "redis:\/\/127\.0\.0\.1:6379\/0"$/],
    ['cache', `cache: 5\n${apt()}`, /^cache: expected a mapping, got 5$/],
    ['cache.maxSize', `cache: { maxSize: "-3MB" }\n${apt()}`, /^cache\.maxSize: expected a size like "500MiB" or "50GiB", got "-3MB"$/],
    ['cache.gcInterval', `cache: { gcInterval: true }\n${apt()}`, /^cache\.gcInterval: expected a duration like "30s", "5m" or "1h", got true$/],
    ['cache typo', `cache: { max: 1 }\n${apt()}`, /^cache: unknown key "max" \(valid keys: maxSize, gcInterval, tempMaxAge, gcGrace\)$/],
    ['cache.tempMaxAge', `cache: { tempMaxAge: "1m" }\n${apt()}`, /^cache\.tempMaxAge: must be at least 10m: a live download on another host sharing the directory may be silent/],
    ['state mapping', `state: { backend: "redis://127.0.0.1:1", staleWindow: "soon" }\n${apt()}`, /^state: staleWindow: expected a duration like "30s", "5m" or "1h", got "soon"$/],
    ['state typo', `state: { url: sqlite }\n${apt()}`, /^state: unknown key "url" \(valid keys: backend, staleWindow, leaseTtl, leaseRenewEvery\)$/],
    ['state lease', `state: { leaseTtl: "2s", leaseRenewEvery: "1500ms" }\n${apt()}`, /^state\.leaseRenewEvery: leaseRenewEvery must be at most half of leaseTtl/],
    ['state not text', `state: 5\n${apt()}`, /^state: expected "sqlite" or a redis URL like "redis:\/\/127\.0\.0\.1:6379\/0", or a mapping with backend, staleWindow, leaseTtl, leaseRenewEvery; got 5$/],
    ['upstream.metadataDeadline', `upstream: { metadataDeadline: "never" }\n${apt()}`, /^upstream\.metadataDeadline: expected a duration/],
    ['limits.indexMaxBytes', `limits: { indexMaxBytes: "lots" }\n${apt()}`, /^limits\.indexMaxBytes: expected a size like "500MiB" or "50GiB", got "lots"$/],
    ['shutdownGrace', `shutdownGrace: -1\n${apt()}`, /^shutdownGrace: expected a duration/],
    ['upstream.connectTimeout', `upstream: { connectTimeout: "10 s" }\n${apt()}`, /^upstream\.connectTimeout: expected a duration/],
    ['upstream.bodyTimeout', `upstream: { bodyTimeout: [] }\n${apt()}`, /^upstream\.bodyTimeout: expected a duration/],
    ['upstream.retries', `upstream: { retries: 11 }\n${apt()}`, /^upstream\.retries: expected a whole number from 0 to 10, got 11$/],
    ['upstream.connectionsPerHost', `upstream: { connectionsPerHost: 1.5 }\n${apt()}`, /^upstream\.connectionsPerHost: expected a whole number from 1 to 1024, got 1\.5$/],
    ['signing.key', `signing: { key: 5 }\n${apt()}`, /^signing\.key: expected a non-empty string, got 5$/],
    ['signing typo', `signing: { path: x }\n${apt()}`, /^signing: unknown key "path" \(valid keys: key\)$/],
    ['publicUrl', `publicUrl: "mirror:8080"\n${apt()}`, /^publicUrl: expected an http\(s\) URL like "http:\/\/mirror\.example:8080"$/],
    ['admin.token', `admin: { token: "" }\n${apt()}`, /^admin\.token: expected a non-empty string, got ""$/],
    ['logLevel', `logLevel: trace\n${apt()}`, /^logLevel: expected one of debug \| info \| warn \| error, got "trace"$/],
    ['remotes', 'remotes: [a]\n', /^remotes: expected a mapping of remote names, got \["a"\]$/],
    ['no remotes', 'logLevel: info\n', /^remotes: no remotes configured; add at least one \(see mirror\.example\.yaml\)$/],
    ['remote', 'remotes:\n  deb: 5\n', /^remotes\.deb: expected a mapping with upstream \(and keyring for apt\), got 5$/],
    ['remote name', apt().replace('deb:', 'deb/x:'), /^remotes\.deb\/x: remote names must match \[a-z0-9\]\[a-z0-9\._-\]\*$/],
    ['remote typo', apt('    metadataTTL: 5m\n'), /^remotes\.deb: unknown key "metadataTTL" \(valid keys: type, upstream, keyring, metadataTtl, strict, allowSha1, resign, auth, tls, redirectHosts, importFrom, checkpoints\)$/],
    ['resign', apt('    resign: yes\n'), /^remotes\.deb\.resign: expected true or false, got "yes"$/],
    ['type', apt('    type: rpm\n'), /^remotes\.deb\.type: expected one of apt \| yum, got "rpm"$/],
    ['offline keyring', `remotes:\n  lab: { type: apt, keyring: "k.gpg" }\n`, /^remotes\.lab\.keyring: an offline remote \(no upstream\) takes its checkpoints from imports, verified with import\.trustedKeys: remove remotes\.lab\.keyring, or set remotes\.lab\.upstream$/],
    ['offline schedule', 'remotes:\n  lab: { type: yum, checkpoints: { schedule: "0 * * * *" } }\n', /^remotes\.lab\.checkpoints\.schedule: an offline remote \(no upstream\) cannot make checkpoints; they come from `repoint import` or remotes\.lab\.importFrom: remove the schedule$/],
    ['importFrom.url', 'remotes:\n  lab: { type: apt, importFrom: { url: "outside:8080", schedule: "* * * * *" } }\nimport: { trustedKeys: [k.asc] }\n', /^remotes\.lab\.importFrom\.url: expected the http\(s\) URL of another repoint's export endpoint/],
    ['importFrom.schedule', 'remotes:\n  lab: { type: apt, importFrom: { url: "http://127.0.0.1:1/-/api/remotes/d/export" } }\nimport: { trustedKeys: [k.asc] }\n', /^remotes\.lab\.importFrom\.schedule: required; set it to a string$/],
    ['import.trustedKeys', 'remotes:\n  lab: { type: apt, importFrom: { url: "http://127.0.0.1:1/-/api/remotes/d/export", schedule: "* * * * *" } }\n', /^import\.trustedKeys: remotes\.lab\.importFrom needs the exporting node's key here/],
    ['import typo', `import: { keys: [a] }\n${apt()}`, /^import: unknown key "keys" \(valid keys: trustedKeys\)$/],
    ['upstream[1]', apt().replace('"http://127.0.0.1:1"', '["http://127.0.0.1:1", "127.0.0.1:2"]'), /^remotes\.deb\.upstream\[1\]: expected an http\(s\) URL$/],
    ['keyring', 'remotes:\n  deb: { upstream: "http://127.0.0.1:1" }\n', /^remotes\.deb\.keyring: required for apt remotes: the upstream archive keyring/],
    ['keyring[0]', yum('    keyring: [5]\n'), /^remotes\.f\.keyring\[0\]: expected a non-empty string, got 5$/],
    ['metadataTtl', apt('    metadataTtl: "5 minutes"\n'), /^remotes\.deb\.metadataTtl: expected a duration like "30s", "5m" or "1h", got "5 minutes"$/],
    ['strict', apt('    strict: "yes"\n'), /^remotes\.deb\.strict: expected true or false, got "yes"$/],
    ['allowSha1', apt('    allowSha1: 1\n'), /^remotes\.deb\.allowSha1: expected true or false, got 1$/],
    ['checkpoints', apt('    checkpoints: [a]\n'), /^remotes\.deb\.checkpoints: expected a mapping, got \["a"\]$/],
    ['checkpoints.suites', apt('    checkpoints: {}\n'), /^remotes\.deb\.checkpoints\.suites: required; list the suites to checkpoint$/],
    ['checkpoints.schedule', apt('    checkpoints: { suites: [a], schedule: "every hour" }\n'), /^remotes\.deb\.checkpoints\.schedule: not a valid cron expression: "every hour" \(five or six fields, e\.g\. "0 \*\/6 \* \* \*"\)$/],
    ['checkpoints.components[0]', apt('    checkpoints: { suites: [a], components: [""] }\n'), /^remotes\.deb\.checkpoints\.components\[0\]: expected a non-empty string, got ""$/],
    ['checkpoints.architectures', apt('    checkpoints: { suites: [a], architectures: [[amd64]] }\n'), /^remotes\.deb\.checkpoints\.architectures\[0\]: expected a non-empty string, got \["amd64"\]$/],
    ['checkpoints.packages', apt('    checkpoints: { suites: [a], packages: lazy }\n'), /^remotes\.deb\.checkpoints\.packages: expected one of on-demand \| immediate, got "lazy"$/],
    ['checkpoints.indexes', apt('    checkpoints: { suites: [a], indexes: [packages, manpages] }\n'), /^remotes\.deb\.checkpoints\.indexes\[1\]: expected one of packages \| sources \| contents \| translations \| dep11 \| commands \| other, got "manpages"$/],
    ['checkpoints.indexes without packages', apt('    checkpoints: { suites: [a], indexes: [contents] }\n'), /^remotes\.deb\.checkpoints\.indexes: must include packages/],
    ['checkpoints.keep', apt('    checkpoints: { suites: [a], keep: 0 }\n'), /^remotes\.deb\.checkpoints\.keep: expected a whole number from 1 to 100000, got 0$/],
    ['apt checkpoints typo', apt('    checkpoints: { suites: [a], repos: [b] }\n'), /^remotes\.deb\.checkpoints: unknown key "repos" \(valid keys: schedule, suites, components, architectures, indexes, packages, keep\)$/],
    ['yum checkpoints typo', yum('    checkpoints: { repos: [a], suites: [b], trustTls: true }\n'), /^remotes\.f\.checkpoints: unknown key "suites" \(valid keys: schedule, repos, packages, keep, trustTls\)$/],
    ['checkpoints.repos', yum('    checkpoints: { trustTls: true }\n'), /^remotes\.f\.checkpoints\.repos: required; list the repositories to checkpoint$/],
    ['checkpoints.trustTls', yum('    checkpoints: { repos: [a], trustTls: "yes" }\n'), /^remotes\.f\.checkpoints\.trustTls: expected true or false, got "yes"$/],
  ])('%s', async (_what, yaml, message) => {
    expect(await refusal(yaml)).toMatch(message);
  });

  it('names the environment variable when PORT is not a port', async () => {
    expect(await refusal(apt(), { PORT: '80x' })).toBe('env PORT: expected a port number 0-65535');
  });

  it('refuses a remote named __proto__, in the file or from a preset, instead of ignoring it', async () => {
    const rule = /^remotes\.__proto__: remote names must match \[a-z0-9\]\[a-z0-9\._-\]\*$/;
    expect(await refusal(`${apt()}  __proto__:\n    upstream: "http://127.0.0.1:1"\n    keyring: "${keyring}"\n`)).toMatch(rule);
    expect(await refusal(`include: proto-preset.yaml\n${apt()}`)).toMatch(rule);
    expect(await refusal(`__proto__: { listen: ":1" }\n${apt()}`)).toMatch(/^\(top level\): unknown key "__proto__"/);
  });

  it('reads an empty value as the key left out, so its default applies', async () => {
    const file = join(dir, 'empty-values.yaml');
    await writeFile(file, `cache:\nadmin:\n${apt('    checkpoints:\n    metadataTtl:\n')}`);
    const c = loadConfig(file, {});
    expect(c.cache).toEqual({ maxSizeBytes: 50 * 2 ** 30, gcIntervalMs: 600_000, tempMaxAgeMs: 24 * 3600_000, gcGraceMs: 15 * 60_000 });
    expect(c.remotes.get('deb')).toMatchObject({ metadataTtlMs: 300_000 });
    expect(c.remotes.get('deb')?.checkpoints).toBeUndefined();
  });
});
