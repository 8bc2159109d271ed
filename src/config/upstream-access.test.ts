import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from './load.ts';

let dir: string;
let keyring: string;
let n = 0;

async function load(yaml: string): Promise<ReturnType<typeof loadConfig>> {
  const file = join(dir, `c${n++}.yaml`);
  await writeFile(file, yaml);
  return loadConfig(file, {});
}

async function refusal(yaml: string): Promise<string> {
  try {
    await load(yaml);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error(`expected the config to be refused:\n${yaml}`);
}

const deb = (extra: string, upstream = 'http://127.0.0.1:1/debian'): string =>
  `remotes:\n  deb:\n    upstream: "${upstream}"\n    keyring: "${keyring}"\n${extra}`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'repoint-config-access-'));
  keyring = join(dir, 'k.gpg');
  await writeFile(keyring, 'not parsed here');
  await writeFile(join(dir, 'pw'), 'hunter2\n');
});

describe('upstream credentials in the config (issue 8, finding 8)', () => {
  it('splits user:password out of the upstream URL, so the URL repoint keeps is clean', async () => {
    const c = await load(deb('', 'http://alice:s%40cret@127.0.0.1:1/debian/'));
    const r = c.remotes.get('deb')!;
    expect(r.upstreams).toEqual(['http://127.0.0.1:1/debian']);
    expect(r.upstreamAuth).toEqual([{ type: 'basic', username: 'alice', password: 's@cret' }]);
    expect(JSON.stringify(r.upstreams)).not.toContain('cret');
  });

  it('applies auth to every mirror, resolving passwordFile against the config file', async () => {
    const c = await load(deb('    auth: { type: basic, username: bob, passwordFile: pw }\n', 'http://127.0.0.1:1'));
    expect(c.remotes.get('deb')!.upstreamAuth).toEqual([{ type: 'basic', username: 'bob', passwordFile: join(dir, 'pw') }]);
    const b = await load(`remotes:\n  deb:\n    upstream: ["http://127.0.0.1:1", "http://127.0.0.1:2"]\n    keyring: "${keyring}"\n    auth: { type: bearer, token: t0k }\n`);
    expect(b.remotes.get('deb')!.upstreamAuth).toEqual([{ type: 'bearer', token: 't0k' }, { type: 'bearer', token: 't0k' }]);
  });

  it('refuses ambiguous or incomplete credentials, naming the key', async () => {
    expect(await refusal(deb('    auth: { type: bearer, token: x }\n', 'http://u:p@127.0.0.1:1'))).toMatch(/^remotes\.deb\.upstream\[0\]: carries user:password and auth is set too/);
    expect(await refusal(deb('    auth: { type: basic, username: u }\n'))).toMatch(/^remotes\.deb\.auth: set exactly one of password or passwordFile/);
    expect(await refusal(deb('    auth: { type: bearer, token: a, tokenFile: b }\n'))).toMatch(/^remotes\.deb\.auth: set exactly one of token or tokenFile/);
    expect(await refusal(deb('    auth: { type: digest }\n'))).toMatch(/^remotes\.deb\.auth\.type: expected basic \| bearer, got "digest"/);
    expect(await refusal(deb('    auth: basic\n'))).toMatch(/^remotes\.deb\.auth: expected a mapping with type: basic/);
    expect(await refusal(deb('    tls: { cert: c.pem }\n'))).toMatch(/^remotes\.deb\.tls: set cert and key together/);
  });

  it('disables only the remote whose secret or certificate file is missing', async () => {
    const c = await load(deb('    auth: { type: bearer, tokenFile: nope.token }\n'));
    expect(c.remotes.get('deb')!.unavailable).toBe(`remotes.deb.auth.tokenFile: file not found: ${join(dir, 'nope.token')}`);
    const t = await load(deb('    tls: { cert: pw, key: pw, ca: no-ca.pem }\n'));
    expect(t.remotes.get('deb')!.unavailable).toBe(`remotes.deb.tls.ca: file not found: ${join(dir, 'no-ca.pem')}`);
    expect(t.remotes.get('deb')!.tls).toEqual({ cert: join(dir, 'pw'), key: join(dir, 'pw'), ca: join(dir, 'no-ca.pem') });
  });
});

describe('redirectHosts (issue 8, finding 1)', () => {
  it('defaults to none and takes host names, lower-cased', async () => {
    expect((await load(deb(''))).remotes.get('deb')!.redirectHosts).toEqual([]);
    const c = await load(deb('    redirectHosts: [CDN.mirror.example, "*.edge.example"]\n'));
    expect(c.remotes.get('deb')!.redirectHosts).toEqual(['cdn.mirror.example', '*.edge.example']);
  });

  it('refuses URLs and ports, naming the key', async () => {
    expect(await refusal(deb('    redirectHosts: "http://cdn.example"\n'))).toMatch(/^remotes\.deb\.redirectHosts\[0\]: expected a host name/);
    expect(await refusal(deb('    redirectHosts: ["cdn.example:8080"]\n'))).toMatch(/^remotes\.deb\.redirectHosts\[0\]: expected a host name/);
  });
});
