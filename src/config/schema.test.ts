import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { parse } from 'yaml';
import { configJsonSchema, configJsonSchemaText } from './json-schema.ts';
import { loadConfig } from './load.ts';
import { remotesSchema } from './remote-schema.ts';
import type { AptCheckpointConfig, AptRemoteConfig, Config, RemoteConfig, RemoteType, YumCheckpointConfig, YumRemoteConfig } from './types.ts';
import type { UpstreamAuth, UpstreamTls } from './upstream-access.ts';
import type { BlobsConfig } from './blobs-schema.ts';

const root = process.cwd();
const example = join(root, 'mirror.example.yaml');
const presetDir = join(root, 'config/presets');
const presets = readdirSync(presetDir).filter((f) => f.endsWith('.yaml'));
const yamlOf = (file: string): unknown => parse(readFileSync(file, 'utf8'));

// A real JSON Schema 2020-12 validator, as an editor would use (union types like ["string", "number"] are standard).
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
const schema = configJsonSchema();
const validateFile = ajv.compile(schema);
const properties = schema.properties as Record<string, unknown>;
// Presets are partial files: only their `remotes:` are read.
const validatePreset = ajv.compile({ type: 'object', properties: { remotes: properties.remotes }, required: ['remotes'], additionalProperties: false });

describe('config/schema.json', () => {
  it('is generated from the schema and up to date (run `npm run schema` after changing it)', () => {
    expect(readFileSync(join(root, 'config/schema.json'), 'utf8')).toBe(configJsonSchemaText());
  });

  it('accepts mirror.example.yaml, which loadConfig accepts too', () => {
    expect(validateFile(yamlOf(example)), JSON.stringify(validateFile.errors)).toBe(true);
    expect(loadConfig(example, {}).remotes.size).toBeGreaterThan(0);
  });

  it.each(presets)('accepts the remotes of config/presets/%s, as the schema parses them', (preset) => {
    const doc = yamlOf(join(presetDir, preset));
    expect(validatePreset(doc), JSON.stringify(validatePreset.errors)).toBe(true);
    const parsed = remotesSchema((p) => p).safeParse((doc as { remotes: unknown }).remotes);
    expect(parsed.error?.issues).toBeUndefined();
    expect(parsed.data?.size).toBeGreaterThan(0);
  });

  it('leaves keys with defaults optional and refuses what loadConfig refuses', () => {
    expect(validateFile({ remotes: { d: { upstream: 'http://127.0.0.1:1', keyring: 'k.gpg' } } })).toBe(true);
    expect(validateFile({ remotes: { f: { type: 'yum', upstream: ['http://127.0.0.1:1'] } } })).toBe(true);
    expect(validateFile({ include: 'config/presets/debian.yaml' })).toBe(true);
    expect(validateFile({ import: { trustedKeys: 'k.asc' }, remotes: { lab: { type: 'apt', importFrom: { url: 'http://127.0.0.1:1/-/api/remotes/d/export', schedule: '* * * * *' } } } })).toBe(true);
    expect(validateFile({ remotes: { lab: { type: 'apt', importFrom: { url: 'http://127.0.0.1:1' } } } })).toBe(false); // no schedule
    expect(validateFile({ typo: 1 })).toBe(false);
    expect(validateFile({ remotes: { d: { upstream: 'http://127.0.0.1:1' } } })).toBe(false); // apt needs a keyring
    expect(validateFile({ remotes: { d: { upstream: 'ftp://x', keyring: 'k' } } })).toBe(false);
    expect(validateFile({ remotes: { D: { upstream: 'http://x', keyring: 'k' } } })).toBe(false);
    expect(validateFile({ remotes: { f: { type: 'yum', upstream: 'http://x', checkpoints: { suites: ['a'] } } } })).toBe(false);
    expect(validateFile({ remotes: { f: { type: 'rpm', upstream: 'http://x' } } })).toBe(false);
    expect(validateFile({ upstream: { retries: 11 } })).toBe(false);
  });

  it('carries the key descriptions for editors', () => {
    expect(properties.listen).toMatchObject({ default: '0.0.0.0:8080', description: expect.stringContaining('PORT') });
    expect(JSON.stringify(properties.remotes)).toContain('mirrors tried in order');
  });
});

describe('config types', () => {
  interface RemoteBase {
    name: string; upstreams: string[]; keyrings: string[]; metadataTtlMs: number; strict: boolean; allowSha1: boolean; unavailable?: string;
    upstreamAuth: Array<UpstreamAuth | undefined>; tls?: UpstreamTls; redirectHosts: string[];
    importFrom?: { url: string; token?: string; tokenFile?: string; schedule: string };
  }
  /** One object type from an intersection, for an exact comparison. */
  type Flat<T> = { [K in keyof T]: T[K] };

  it('are derived from the schema with the documented shape', () => {
    // Checked by tsc (npm test runs it first): the derived types are exactly the documented ones.
    expectTypeOf<AptRemoteConfig>().toEqualTypeOf<Flat<RemoteBase & { type: 'apt'; resign: boolean; checkpoints?: AptCheckpointConfig }>>();
    expectTypeOf<YumRemoteConfig>().toEqualTypeOf<Flat<RemoteBase & { type: 'yum'; checkpoints?: YumCheckpointConfig }>>();
    expectTypeOf<RemoteType>().toEqualTypeOf<'apt' | 'yum'>();
    expectTypeOf<YumCheckpointConfig>().toEqualTypeOf<{ schedule?: string; repos: string[]; packages: 'on-demand' | 'immediate'; keep: number; trustTls: boolean }>();
    expectTypeOf<Omit<Config, 'remotes' | 'admin' | 'metrics'>>().toEqualTypeOf<{
      source: string;
      listen: { host: string; port: number };
      dataDir: string;
      state: { backend: string; staleWindowMs: number; leaseTtlMs: number; leaseRenewMs: number };
      blobs: BlobsConfig;
      cache: { maxSizeBytes: number; gcIntervalMs: number; tempMaxAgeMs: number; gcGraceMs: number };
      upstream: { connectTimeoutMs: number; bodyTimeoutMs: number; retries: number; connectionsPerHost: number; metadataDeadlineMs: number };
      limits: { metadataMaxBytes: number; indexMaxBytes: number; indexLineMax: number; maxFileSize: number };
      signing: { keyPath: string };
      publicUrl?: string;
      node: { internalUrl?: string };
      logLevel: 'debug' | 'info' | 'warn' | 'error';
      accessLog: 'stream' | 'off' | { file: string };
      shutdownGraceMs: number;
      import: { trustedKeys: string[] };
    }>();
    expectTypeOf<Config['remotes']>().toEqualTypeOf<Map<string, RemoteConfig>>();
    expectTypeOf<Config['admin']>().toEqualTypeOf<{ token?: string }>();
    expectTypeOf<Config['metrics']>().toEqualTypeOf<{ token?: string }>();

    const c = loadConfig(example, {});
    const fedora = c.remotes.get('fedora');
    const debian = c.remotes.get('debian');
    expect(fedora?.type === 'yum' && fedora.keyrings).toEqual([]);
    expect(debian?.type === 'apt' && debian.checkpoints?.suites).toEqual(['bookworm', 'bookworm-updates']);
  });
});
