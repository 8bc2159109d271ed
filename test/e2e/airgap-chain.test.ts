import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkpointsOf, createCheckpoint, repoint, repointOk, saveKey } from '../helpers/airgap.ts';
import { aptProblems, createAptClient, type AptClient } from '../helpers/apt-client.ts';
import { debFileName, sha256File, startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const TOOLS = ['apt-get', 'gpg', 'gpgv', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'chain-token';
const PACKAGES = [{ name: 'hello', version: '1.0-1', sizeBytes: 100_000 }, { name: 'moving', version: '1.0-1' }];

/** Waits (bounded) until `check` holds; the schedule under test runs every second. */
async function eventually(check: () => Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const until = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describeE2E('chained mirrors: export over HTTP, scheduled pulls, and plain live chaining', TOOLS, () => {
  let w: AptWorld;
  let dir: string;
  let outsideKey: string;
  let first: string;
  let tokenFile: string;
  const proxies: TestProxy[] = [];
  const clients: AptClient[] = [];
  const exportUrl = (): string => `${w.proxy.url}/-/api/remotes/${w.remote}/export`;

  beforeAll(async () => {
    w = await startAptWorld({ packages: PACKAGES, remote: { metadataTtl: '1s', checkpoints: { suites: ['stable'], keep: 5 } }, extra: { admin: { token: TOKEN } } });
    dir = await tempDir('repoint-chain-');
    outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
    first = await createCheckpoint(w.proxy, w.remote, TOKEN);
    tokenFile = join(dir, 'outside.token');
    await writeFile(tokenFile, `${TOKEN}\n`); // as `echo TOKEN > file` writes it
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.cleanup()));
    for (const p of proxies) await p.close();
    await w?.close();
  });

  it('answers HEAD of the export with 200 or 204 without planning (no package fetched, no writer left behind)', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const debs = (): number => w.upstream.hitsMatching(/\.deb$/);
    const before = debs(); // the checkpoint is on-demand: planning it would fetch its packages
    for (let i = 0; i < 3; i++) {
      const res = await fetch(exportUrl(), { method: 'HEAD', headers: auth });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain(`${w.remote}-${first}.tar`);
    }
    expect((await fetch(`${exportUrl()}?since=${first}`, { method: 'HEAD', headers: auth })).status).toBe(204);
    expect((await fetch(exportUrl(), { method: 'HEAD' })).status).toBe(401);
    expect(debs()).toBe(before);
  });

  it('streams the bundle from GET /-/api/remotes/<remote>/export only with the admin token; 204 when nothing is newer', async () => {
    expect((await fetch(exportUrl())).status).toBe(401);
    const res = await fetch(exportUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/x-tar');
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    expect((await fetch(`${exportUrl()}?since=${first}`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(204);
    expect((await fetch(`${exportUrl()}?since=20000101T000000Z`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    // a misspelt parameter is refused, not read as "a full bundle of the newest checkpoint"
    const typo = await fetch(`${exportUrl()}?sinse=${first}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(typo.status).toBe(400);
    expect(await typo.json()).toMatchObject({ error: 'BAD_QUERY', message: expect.stringContaining('unknown parameter "sinse"') });
  });

  it('imports from the URL with `repoint import <url> --token` or `--token-file`; a second pull is up to date', async () => {
    const inside = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { import: { trustedKeys: [outsideKey] } } });
    proxies.push(inside);
    const r = await repointOk(['import', exportUrl(), '--token', TOKEN, '--remote', 'lab'], inside.configPath);
    expect(r.stdout).toMatch(new RegExp(`^imported lab: ${first};`));
    const again = await repointOk(['import', exportUrl(), '--token-file', tokenFile, '--remote', 'lab'], inside.configPath);
    expect(again.stdout).toMatch(/^lab: up to date/);
    const both = await repoint(['import', exportUrl(), '--token', TOKEN, '--token-file', tokenFile], inside.configPath);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('give --token or --token-file, not both')]);
    const missing = await repoint(['import', exportUrl(), '--token-file', `${dir}/no-such.token`], inside.configPath);
    expect([missing.code, missing.stderr]).toEqual([1, expect.stringMatching(/CONFIG_INVALID: --token-file: file not readable \(ENOENT\)/)]);
    const denied = await repoint(['import', exportUrl(), '--remote', 'lab'], inside.configPath);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toMatch(/UNAUTHORIZED: .* answered 401/);
  });

  it('pulls on the importFrom schedule (one run at a time) and follows new checkpoints', async () => {
    const inside = await startProxy({
      remotes: { lab: { type: 'apt', importFrom: { url: exportUrl(), tokenFile, schedule: '* * * * * *' } } },
      extra: { import: { trustedKeys: [outsideKey] } },
    });
    proxies.push(inside);
    await eventually(async () => (await checkpointsOf(inside, 'lab')).includes(first), `the scheduled pull of ${first}`);
    await w.repo.publish({ packages: [PACKAGES[0]!, { name: 'moving', version: '2.0-1' }] });
    await new Promise((r) => setTimeout(r, 1100));
    const second = await createCheckpoint(w.proxy, w.remote, TOKEN);
    await eventually(async () => (await checkpointsOf(inside, 'lab')).includes(second), `the scheduled pull of ${second}`);
    expect(await checkpointsOf(inside, 'lab')).toEqual([first, second]);
    const packages = await (await fetch(`${inside.url}/lab/dists/stable/main/binary-amd64/Packages`)).text();
    expect(packages).toMatch(/^Version: 2\.0-1$/m);
  });

  it('pulls one named checkpoint (?checkpoint=TS) into a node that has a newer one; a second pull is up to date', async () => {
    const inside = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { import: { trustedKeys: [outsideKey] } } });
    proxies.push(inside);
    await repointOk(['import', exportUrl(), '--token', TOKEN, '--remote', 'lab'], inside.configPath); // the newest
    const newest = (await checkpointsOf(inside, 'lab')).at(-1)!;
    expect(newest > first).toBe(true);
    const url = `${exportUrl()}?checkpoint=${first}`;
    const r = await repointOk(['import', url, '--token', TOKEN, '--remote', 'lab'], inside.configPath);
    expect(r.stdout).toMatch(new RegExp(`^imported lab: ${first};`));
    expect(await checkpointsOf(inside, 'lab')).toEqual([first, newest]);
    const again = await repointOk(['import', url, '--token', TOKEN, '--remote', 'lab'], inside.configPath);
    expect(again.stdout).toMatch(/^lab: up to date/);
  });

  it('chains live: a repoint whose upstream is another repoint\'s live remote, apt verifying with the original keyring', async () => {
    const downstream = await startProxy({ remotes: { chained: { type: 'apt', upstream: `${w.proxy.url}/${w.remote}`, keyring: w.key.publicKeyPath } } });
    proxies.push(downstream);
    const apt = await createAptClient({ sourcesLine: `deb [signed-by=${w.key.publicKeyPath}] ${downstream.url}/chained stable main`, options: { 'Acquire::Retries': '0' } });
    clients.push(apt);
    const up = await apt.update();
    expect(aptProblems(up), up.stdout + up.stderr).toEqual([]);
    const dl = await tempDir();
    await apt.download(w.repo.packages.map((p) => p.name), dl);
    for (const p of w.repo.packages) expect(await sha256File(`${dl}/${debFileName(p)}`)).toBe(p.sha256);
    // the original, upstream-signed InRelease passed through both tiers unchanged
    expect(await (await fetch(`${downstream.url}/chained/dists/stable/InRelease`)).text()).toBe(await (await fetch(`${w.upstream.url}/dists/stable/InRelease`)).text());
  });
});
