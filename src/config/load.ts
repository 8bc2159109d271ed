import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse } from 'yaml';
import type { z } from 'zod';
import { RepointError } from '../errors.ts';
import { got } from './fields.ts';
import { configSchema, includeSchema, relativeTo } from './schema.ts';
import type { Config } from './types.ts';

/** The config path: --config, else $REPOINT_CONFIG, else ./mirror.yaml, else ./mirror.example.yaml. */
export function findConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv, cwd: string): string {
  if (flag) return resolve(cwd, flag);
  if (env.REPOINT_CONFIG) return resolve(cwd, env.REPOINT_CONFIG);
  const local = resolve(cwd, 'mirror.yaml');
  return existsSync(local) ? local : resolve(cwd, 'mirror.example.yaml');
}

function fail(keyPath: string, problem: string): never {
  throw new RepointError('CONFIG_INVALID', `${keyPath || '(top level)'}: ${problem}`);
}

/** `remotes.debian.upstream[0]` */
function keyPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const k of path) s += typeof k === 'number' ? `[${k}]` : s ? `.${String(k)}` : String(k);
  return s;
}

/** Parses with `schema`; the first problem becomes the error, prefixed with its key path. */
function check<S extends z.ZodType>(schema: S, value: unknown, at: readonly PropertyKey[] = []): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  return fail(keyPath([...at, ...(issue?.path ?? [])]), issue?.message ?? 'invalid');
}

/** An empty YAML value (`key:`) means the key is absent, so its default applies. */
function nullsAbsent(v: unknown): unknown {
  if (Array.isArray(v)) return v.map((x) => (x === null ? x : nullsAbsent(x)));
  if (typeof v !== 'object' || v === null) return v;
  // fromEntries keeps an own "__proto__" key as data, so the schema sees (and refuses) it.
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x === null ? undefined : nullsAbsent(x)]));
}

function readYaml(file: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return fail(what, `file not found: ${file}`);
  }
  try {
    return nullsAbsent(parse(text)) ?? {};
  } catch (err) {
    return fail(file, `invalid YAML: ${(err as Error).message}`);
  }
}

function isMapping(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The `remotes:` of a file as entries, taken from the raw object so that a "__proto__" name survives to be refused. */
function remoteEntries(doc: unknown, at: string): [string, unknown][] {
  if (!isMapping(doc)) return fail(at, `expected a mapping, got ${got(doc)}`);
  if (doc.remotes === undefined) return [];
  if (!isMapping(doc.remotes)) return fail(at ? `${at}.remotes` : 'remotes', `expected a mapping of remote names, got ${got(doc.remotes)}`);
  return Object.entries(doc.remotes);
}

function envPort(v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  const port = Number(v);
  return Number.isInteger(port) && port >= 0 && port <= 65535 ? port : fail('env PORT', 'expected a port number 0-65535');
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const root = readYaml(file, 'config');
  const rel = relativeTo(file);

  // Presets: remotes from included files (only their `remotes:` count); the including file wins on a name clash.
  let doc = root;
  if (isMapping(root)) {
    const includes = check(includeSchema, root.include, ['include']);
    if (includes.length) {
      const included = includes.flatMap((inc) => remoteEntries(readYaml(rel(inc), 'include'), `include(${inc})`));
      doc = { ...root, remotes: Object.fromEntries([...included, ...remoteEntries(root, '')]) };
    }
  }

  const ctx = {
    file,
    port: envPort(env.PORT),
    // REPOINT_DATA_DIR lets a container keep the stock config and mount its volume elsewhere.
    dataDir: env.REPOINT_DATA_DIR ? resolve(env.REPOINT_DATA_DIR) : undefined,
    adminToken: env.REPOINT_ADMIN_TOKEN || undefined,
    awsRegion: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
  };
  return check(configSchema(ctx), doc);
}
