import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { findConfigPath, loadConfig } from './load.ts';

let dir: string;
let keyring: string;

async function load(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<ReturnType<typeof loadConfig>> {
  const file = join(dir, `c-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, yaml);
  return loadConfig(file, env);
}

async function error(yaml: string): Promise<string> {
  try {
    await load(yaml);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the config to be refused');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-config-'));
  keyring = join(dir, 'k.gpg');
  await writeFile(keyring, 'not parsed here');
});

describe('loadConfig', () => {
  it('applies documented defaults', async () => {
    const c = await load(`remotes:\n  deb:\n    upstream: http://127.0.0.1:1/debian/\n    keyring: ${keyring}\n`);
    expect(c.listen).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.dataDir).toBe(join(dir, 'data'));
    expect(c.state).toEqual({ backend: 'sqlite', staleWindowMs: 300_000, leaseTtlMs: 15_000, leaseRenewMs: 5000 });
    expect(c.shutdownGraceMs).toBe(10_000);
    expect(c.cache.tempMaxAgeMs).toBe(24 * 3600_000);
    expect(c.cache.maxSizeBytes).toBe(50 * 2 ** 30);
    const r = c.remotes.get('deb')!;
    expect(r).toMatchObject({ type: 'apt', upstreams: ['http://127.0.0.1:1/debian'], keyrings: [keyring], metadataTtlMs: 300_000, strict: false, allowSha1: false });
    expect(c.upstream).toEqual({ connectTimeoutMs: 10_000, bodyTimeoutMs: 30_000, retries: 3, connectionsPerHost: 16, metadataDeadlineMs: 30_000 });
  });

  it('lets PORT, REPOINT_DATA_DIR and REPOINT_ADMIN_TOKEN override', async () => {
    const c = await load(`listen: "127.0.0.1:9000"\nremotes:\n  deb: { upstream: "http://127.0.0.1:1", keyring: "${keyring}" }\n`, { PORT: '9100', REPOINT_DATA_DIR: '/srv/repoint', REPOINT_ADMIN_TOKEN: 's3cret' });
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(c.dataDir).toBe('/srv/repoint');
    expect(c.admin.token).toBe('s3cret');
  });

  it('names the key path and the fix in every error', async () => {
    expect(await error('remotes: {}\n')).toMatch(/^remotes: no remotes configured/);
    expect(await error(`remotes:\n  deb: { upstream: "http://x", keyring: "${keyring}", metadataTtl: "5 minutes" }\n`)).toMatch(/^remotes\.deb\.metadataTtl: expected a duration like "30s"/);
    expect(await error(`remotes:\n  deb: { upstream: "ftp://x", keyring: "${keyring}" }\n`)).toMatch(/^remotes\.deb\.upstream\[0\]: expected an http\(s\) URL/);
    expect(await error(`remotes:\n  deb: { upstream: "http://x" }\n`)).toMatch(/^remotes\.deb\.keyring: required for apt remotes/);
    expect(await error(`remotes:\n  Deb: { upstream: "http://x", keyring: "${keyring}" }\n`)).toMatch(/^remotes\.Deb: remote names must match/);
    expect(await error(`remotes:\n  deb: { upstream: "http://x", keyring: "${keyring}", typo: 1 }\n`)).toMatch(/^remotes\.deb: unknown key "typo" \(valid keys: /);
    expect(await error(`cache: { maxSize: "lots" }\nremotes:\n  deb: { upstream: "http://x", keyring: "${keyring}" }\n`)).toMatch(/^cache\.maxSize: expected a size/);
    expect(await error(`state: "postgres://x"\nremotes:\n  deb: { upstream: "http://x", keyring: "${keyring}" }\n`)).toMatch(/^state: expected "sqlite" or a redis URL/);
    expect(await error(`listen: 8080\nremotes:\n  deb: { upstream: "http://x", keyring: "${keyring}" }\n`)).toMatch(/^listen: expected a non-empty string/);
    expect(await error(`remotes: [\n`)).toMatch(/invalid YAML/);
  });

  it('refuses yum checkpoints that would re-sign unverified repomd.xml, unless TLS is trusted explicitly over https', async () => {
    expect(await error(`remotes:\n  f: { type: yum, upstream: "https://x", checkpoints: { repos: ["/"] } }\n`))
      .toMatch(/^remotes\.f\.checkpoints: checkpoints re-sign repomd\.xml, so it must be verified: set remotes\.f\.keyring .* or set remotes\.f\.checkpoints\.trustTls: true/);
    expect(await error(`remotes:\n  f: { type: yum, upstream: "http://x", checkpoints: { repos: ["/"], trustTls: true } }\n`))
      .toMatch(/^remotes\.f\.checkpoints\.trustTls: only https upstreams/);
    const ok = await load(`remotes:\n  f: { type: yum, upstream: "https://x", checkpoints: { repos: ["/"], trustTls: true } }\n  g: { type: yum, upstream: "http://x", keyring: "${keyring}", checkpoints: { repos: ["a/b/"] } }\n`);
    expect(ok.remotes.get('f')!.checkpoints).toMatchObject({ repos: [''], trustTls: true });
    expect(ok.remotes.get('g')!.checkpoints).toMatchObject({ repos: ['a/b'], trustTls: false });
  });

  it('disables only a remote whose keyring file is missing, saying how to fix it', async () => {
    const c = await load(`remotes:\n  ok: { upstream: "http://x", keyring: "${keyring}" }\n  gone: { upstream: "http://x", keyring: "/nonexistent/ubuntu.gpg" }\n`);
    expect(c.remotes.get('ok')!.unavailable).toBeUndefined();
    expect(c.remotes.get('gone')!.unavailable).toMatch(/^remotes\.gone\.keyring: file not found: \/nonexistent\/ubuntu\.gpg \(install the distribution's keyring package/);
  });

  it('merges remotes from included presets, the including file winning', async () => {
    const preset = join(dir, 'preset.yaml');
    await writeFile(preset, `remotes:\n  a: { upstream: "http://preset", keyring: "${keyring}" }\n  b: { upstream: "http://b", keyring: "${keyring}" }\n`);
    const c = await load(`include: ["${preset}"]\nremotes:\n  a: { upstream: "http://mine", keyring: "${keyring}" }\n`);
    expect(c.remotes.get('a')!.upstreams).toEqual(['http://mine']);
    expect(c.remotes.get('b')!.upstreams).toEqual(['http://b']);
  });

  it('reads an offline remote (no upstream, no keyring), importFrom and import.trustedKeys', async () => {
    const c = await load(`import: { trustedKeys: [keys/outside.asc] }\nremotes:\n  lab: { type: apt, checkpoints: { keep: 3 }, importFrom: { url: "https://outside:8080/-/api/remotes/debian/export/", token: t, schedule: "*/5 * * * *" } }\n  rpms: { type: yum }\n`);
    expect(c.import.trustedKeys).toEqual([join(dir, 'keys/outside.asc')]);
    expect(c.remotes.get('lab')).toMatchObject({ type: 'apt', upstreams: [], keyrings: [], checkpoints: { keep: 3, suites: [] }, importFrom: { url: 'https://outside:8080/-/api/remotes/debian/export', token: 't', schedule: '*/5 * * * *' } });
    expect(c.remotes.get('rpms')).toMatchObject({ type: 'yum', upstreams: [], keyrings: [] });
    expect(c.remotes.get('lab')?.unavailable).toBeUndefined();
  });

  it('refuses importFrom with credentials in its URL, or on a remote that has an upstream, naming the key', async () => {
    const offline = `import: { trustedKeys: [k.asc] }\nremotes:\n  lab: { type: apt, importFrom: { url: "https://admin:S3CRET@outside:8080/-/api/remotes/d/export", schedule: "*/5 * * * *" } }\n`;
    await expect(load(offline)).rejects.toThrow(/remotes\.lab\.importFrom\.url: credentials in the URL are not sent/);
    await expect(load(offline)).rejects.not.toThrow(/S3CRET/);
    const online = `import: { trustedKeys: [k.asc] }\nremotes:\n  deb: { type: apt, upstream: "http://127.0.0.1:1/debian", keyring: k.gpg, importFrom: { url: "http://127.0.0.1:2/-/api/remotes/deb/export", schedule: "*/5 * * * *" } }\n`;
    await expect(load(online)).rejects.toThrow(/remotes\.deb\.importFrom: only an offline remote/);
  });

  it('reads importFrom.tokenFile relative to the config file, and refuses it beside token', async () => {
    const c = await load(`import: { trustedKeys: [k.asc] }\nremotes:\n  lab: { type: apt, importFrom: { url: "https://outside:8080/-/api/remotes/d/export", tokenFile: secrets/outside.token, schedule: "*/5 * * * *" } }\n`);
    expect(c.remotes.get('lab')?.importFrom).toEqual({ url: 'https://outside:8080/-/api/remotes/d/export', tokenFile: join(dir, 'secrets/outside.token'), schedule: '*/5 * * * *' });
    const both = `import: { trustedKeys: [k.asc] }\nremotes:\n  lab: { type: apt, importFrom: { url: "https://outside:8080/-/api/remotes/d/export", token: S3CRET, tokenFile: t, schedule: "*/5 * * * *" } }\n`;
    await expect(load(both)).rejects.toThrow(/remotes\.lab\.importFrom: set at most one of token or tokenFile/);
    await expect(load(both)).rejects.not.toThrow(/S3CRET/);
  });

  it('parses the shipped example config', async () => {
    const c = loadConfig(join(process.cwd(), 'mirror.example.yaml'), {});
    expect([...c.remotes.keys()]).toEqual(expect.arrayContaining(['debian', 'debian-security', 'ubuntu']));
  });
});

describe('findConfigPath', () => {
  it('prefers --config, then $REPOINT_CONFIG, then ./mirror.yaml, then the example', () => {
    expect(findConfigPath('x.yaml', { REPOINT_CONFIG: 'y.yaml' }, '/w')).toBe('/w/x.yaml');
    expect(findConfigPath(undefined, { REPOINT_CONFIG: 'y.yaml' }, '/w')).toBe('/w/y.yaml');
    expect(findConfigPath(undefined, {}, '/nonexistent-dir')).toBe('/nonexistent-dir/mirror.example.yaml');
  });
});
