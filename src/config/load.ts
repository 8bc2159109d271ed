import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { validate as validCron } from 'node-cron';
import { parse } from 'yaml';
import { RepointError } from '../errors.ts';
import type { AptCheckpointConfig, Config, RemoteConfig, YumCheckpointConfig } from './types.ts';
import { Node } from './validate.ts';

const REMOTE_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const TOP_KEYS = ['include', 'listen', 'dataDir', 'state', 'cache', 'upstream', 'signing', 'publicUrl', 'admin', 'logLevel', 'remotes'];
const REMOTE_KEYS = ['type', 'upstream', 'keyring', 'metadataTtl', 'strict', 'allowSha1', 'checkpoints'];

/** The config path: --config, else $REPOINT_CONFIG, else ./mirror.yaml, else ./mirror.example.yaml. */
export function findConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flag) return resolve(cwd, flag);
  if (env.REPOINT_CONFIG) return resolve(cwd, env.REPOINT_CONFIG);
  const local = resolve(cwd, 'mirror.yaml');
  return existsSync(local) ? local : resolve(cwd, 'mirror.example.yaml');
}

function readYaml(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new RepointError('CONFIG_INVALID', `${what}: file not found: ${file}`);
  }
  try {
    return parse(text);
  } catch (err) {
    throw new RepointError('CONFIG_INVALID', `${file}: invalid YAML: ${(err as Error).message}`);
  }
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const root = new Node('', readYaml(file, 'config'));
  root.onlyKeys(TOP_KEYS);
  const base = dirname(file);
  const rel = (p: string): string => (isAbsolute(p) ? p : resolve(base, p));

  // Presets: remotes from included files; the including file wins on a name clash.
  const remotesRaw: Record<string, unknown> = {};
  for (const inc of root.child('include').stringList([])) {
    const incNode = new Node(`include(${inc})`, readYaml(rel(inc), 'include'));
    Object.assign(remotesRaw, incNode.child('remotes').object());
  }
  Object.assign(remotesRaw, root.child('remotes').object());

  const listenNode = root.child('listen');
  const listen = parseListen(listenNode, env.PORT);
  // REPOINT_DATA_DIR lets a container keep the stock config and mount its volume elsewhere.
  const dataDir = env.REPOINT_DATA_DIR ? resolve(env.REPOINT_DATA_DIR) : rel(root.child('dataDir').string('./data'));
  const cache = root.child('cache');
  cache.onlyKeys(['maxSize', 'gcInterval']);
  const up = root.child('upstream');
  up.onlyKeys(['connectTimeout', 'bodyTimeout', 'retries', 'connectionsPerHost']);
  const signing = root.child('signing');
  signing.onlyKeys(['key']);
  const admin = root.child('admin');
  admin.onlyKeys(['token']);
  const adminToken = admin.child('token').optionalString() ?? (env.REPOINT_ADMIN_TOKEN || undefined);
  const publicUrl = root.child('publicUrl').optionalString();
  if (publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(publicUrl)) root.child('publicUrl').fail('expected an http(s) URL like "http://mirror.example:8080"');

  const remotes = new Map<string, RemoteConfig>();
  const remotesNode = new Node('remotes', remotesRaw);
  for (const name of Object.keys(remotesRaw)) {
    const n = remotesNode.child(name);
    if (!REMOTE_NAME.test(name)) n.fail('remote names must match [a-z0-9][a-z0-9._-]*');
    remotes.set(name, parseRemote(name, n, rel));
  }
  if (remotes.size === 0) remotesNode.fail('no remotes configured; add at least one (see mirror.example.yaml)');

  const state = root.child('state').string('sqlite');
  if (state !== 'sqlite' && !/^rediss?:\/\//.test(state)) root.child('state').fail('expected "sqlite" or a redis URL like "redis://127.0.0.1:6379/0"');

  return {
    source: file,
    listen,
    dataDir,
    state,
    cache: { maxSizeBytes: cache.child('maxSize').size('50GiB'), gcIntervalMs: cache.child('gcInterval').duration('10m') },
    upstream: {
      connectTimeoutMs: up.child('connectTimeout').duration('10s'),
      bodyTimeoutMs: up.child('bodyTimeout').duration('30s'),
      retries: up.child('retries').integer(3, 0, 10),
      connectionsPerHost: up.child('connectionsPerHost').integer(16, 1, 1024),
    },
    signing: { keyPath: rel(signing.child('key').string(resolve(dataDir, 'keys/mirror.asc'))) },
    ...(publicUrl !== undefined ? { publicUrl: publicUrl.replace(/\/+$/, '') } : {}),
    admin: adminToken ? { token: adminToken } : {},
    logLevel: root.child('logLevel').oneOf(['debug', 'info', 'warn', 'error'] as const, 'info'),
    remotes,
  };
}

function parseListen(n: Node, portEnv: string | undefined): { host: string; port: number } {
  const s = n.string('0.0.0.0:8080');
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  if (!m) n.fail('expected "host:port", e.g. "0.0.0.0:8080"');
  let port = Number(m[3]);
  if (portEnv !== undefined && portEnv !== '') {
    port = Number(portEnv);
    if (!Number.isInteger(port) || port < 0 || port > 65535) new Node('env PORT', portEnv).fail('expected a port number 0-65535');
  }
  if (port > 65535) n.fail('port must be 0-65535');
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

function parseRemote(name: string, n: Node, rel: (p: string) => string): RemoteConfig {
  n.onlyKeys(REMOTE_KEYS);
  const type = n.child('type').oneOf(['apt', 'yum'] as const, 'apt');
  const upstreams = n.child('upstream').stringList().map((u, i) => {
    if (!/^https?:\/\/[^/]+/.test(u)) new Node(`${n.path}.upstream[${i}]`, u).fail('expected an http(s) URL');
    return u.replace(/\/+$/, '');
  });
  const keyNode = n.child('keyring');
  if (type === 'apt' && !keyNode.present) keyNode.fail('required for apt remotes: the upstream archive keyring (e.g. /usr/share/keyrings/debian-archive-keyring.gpg)');
  const keyrings = keyNode.stringList([]).map((k) => rel(k));
  // A missing keyring disables only this remote (e.g. the example's Ubuntu remote on a Debian host).
  const missing = keyrings.findIndex((k) => !existsSync(k));
  const unavailable = missing < 0 ? undefined
    : `${keyrings.length > 1 ? `${keyNode.path}[${missing}]` : keyNode.path}: file not found: ${keyrings[missing]} (install the distribution's keyring package, fix the path, or remove the remote)`;
  const base = {
    name,
    upstreams,
    keyrings,
    metadataTtlMs: n.child('metadataTtl').duration('5m'),
    strict: n.child('strict').boolean(false),
    allowSha1: n.child('allowSha1').boolean(false),
    ...(unavailable ? { unavailable } : {}),
  };
  const cp = n.child('checkpoints');
  if (type === 'apt') return { ...base, type, ...(cp.present ? { checkpoints: parseAptCheckpoints(cp) } : {}) };
  const remote: RemoteConfig = { ...base, type };
  if (cp.present) {
    {
      remote.checkpoints = parseYumCheckpoints(cp);
      // A checkpoint re-signs repomd.xml with the mirror key: it must have been verified first.
      if (keyrings.length === 0 && !remote.checkpoints.trustTls) {
        cp.fail(`checkpoints re-sign repomd.xml, so it must be verified: set ${n.path}.keyring (upstream signs repomd.xml.asc), or set ${cp.path}.trustTls: true to trust repomd.xml fetched over https (as Pulp does)`);
      }
      if (keyrings.length === 0 && upstreams.some((u) => !u.startsWith('https://'))) {
        cp.child('trustTls').fail('only https upstreams can be trusted without a keyring; use https:// URLs or a keyring');
      }
    }
  }
  return remote;
}

function cronSchedule(n: Node): string | undefined {
  const s = n.child('schedule').optionalString();
  if (s !== undefined && !validCron(s)) n.child('schedule').fail(`not a valid cron expression: "${s}" (five or six fields, e.g. "0 */6 * * *")`);
  return s;
}

function parseAptCheckpoints(n: Node): AptCheckpointConfig {
  n.onlyKeys(['schedule', 'suites', 'components', 'architectures', 'packages', 'keep']);
  const schedule = cronSchedule(n);
  return {
    ...(schedule !== undefined ? { schedule } : {}),
    suites: n.child('suites').stringList(),
    components: n.child('components').stringList(['main']),
    architectures: n.child('architectures').stringList(['amd64']),
    packages: n.child('packages').oneOf(['on-demand', 'immediate'] as const, 'on-demand'),
    keep: n.child('keep').integer(30, 1, 100_000),
  };
}

function parseYumCheckpoints(n: Node): YumCheckpointConfig {
  n.onlyKeys(['schedule', 'repos', 'packages', 'keep', 'trustTls']);
  const schedule = cronSchedule(n);
  return {
    ...(schedule !== undefined ? { schedule } : {}),
    // "/" or "." is a repository at the remote's root
    repos: n.child('repos').stringList().map((r) => (r === '.' ? '' : r.replace(/^\/+|\/+$/g, ''))),
    packages: n.child('packages').oneOf(['on-demand', 'immediate'] as const, 'on-demand'),
    keep: n.child('keep').integer(30, 1, 100_000),
    trustTls: n.child('trustTls').boolean(false),
  };
}
