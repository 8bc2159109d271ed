import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { blobEntryName } from '../../src/bundles/bundle-manifest.ts';
import { checkpointsOf, createCheckpoint, flipByteIn, repoint, repointOk, saveKey, truncated } from '../helpers/airgap.ts';
import { startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const TOOLS = ['gpg', 'dpkg-deb', 'apt-ftparchive'];
const TOKEN = 'refusal-token';
const PACKAGES = [{ name: 'big', version: '1.0-1', sizeBytes: 600_000 }, { name: 'moving', version: '1.0-1' }];

/** Expects a refused import: exit 1, the code on stderr, and the inside catalogue unchanged. */
async function refused(inside: TestProxy, file: string, code: string, message: RegExp, before: string[]): Promise<string> {
  const r = await repoint(['import', file, '--remote', 'lab'], inside.configPath);
  expect(r.code, r.stdout + r.stderr).toBe(1);
  expect(r.stderr).toContain(`repoint: ${code}: `);
  expect(r.stderr).toMatch(message);
  expect(r.stdout).toBe('');
  expect(await checkpointsOf(inside, 'lab')).toEqual(before);
  return r.stderr;
}

describeE2E('air gap refusals: nothing is published from a damaged, untrusted or baseless bundle', TOOLS, () => {
  let w: AptWorld;
  let inside: TestProxy;
  let stranger: TestProxy;
  let dir: string;
  let first: string;
  let second: string;
  const file = (name: string): string => join(dir, name);

  beforeAll(async () => {
    w = await startAptWorld({ packages: PACKAGES, remote: { metadataTtl: '1s', checkpoints: { suites: ['stable'], keep: 5 } }, extra: { admin: { token: TOKEN } } });
    dir = await tempDir('repoint-airgap-refusals-');
    const outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
    inside = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { import: { trustedKeys: [outsideKey] } } });
    // a node that trusts another key (the distribution's), not the exporter's
    stranger = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { import: { trustedKeys: [w.key.publicKeyArmoredPath] } } });
    first = await createCheckpoint(w.proxy, w.remote, TOKEN);
    await repointOk(['export', w.remote, '--output', file('first.tar')], w.proxy.configPath);
    await w.repo.publish({ packages: [PACKAGES[0]!, { name: 'moving', version: '2.0-1' }] });
    await new Promise((r) => setTimeout(r, 1100));
    second = await createCheckpoint(w.proxy, w.remote, TOKEN);
    await repointOk(['export', w.remote, '--output', file('second.tar')], w.proxy.configPath);
    await repointOk(['export', w.remote, '--since', first, '--output', file('incr.tar')], w.proxy.configPath);
  });
  afterAll(async () => {
    await stranger?.close();
    await inside?.close();
    await w?.close();
  });

  it('refuses a bundle with one byte flipped inside a package blob (import and bundle verify)', async () => {
    const big = w.repo.packages.find((p) => p.name === 'big')!;
    await flipByteIn(file('first.tar'), blobEntryName(big.sha256), file('flipped.tar'));
    await refused(inside, file('flipped.tar'), 'BUNDLE_INVALID', new RegExp(`${blobEntryName(big.sha256)} is damaged`), []);
    const v = await repoint(['bundle', 'verify', file('flipped.tar')], inside.configPath);
    expect(v.code).toBe(1);
    expect(v.stderr).toMatch(/BUNDLE_INVALID: .* is damaged/);
    const live = await fetch(`${inside.url}/lab/dists/stable/InRelease`);
    expect(((await live.json()) as { error: string }).error).toBe('NO_CHECKPOINT_YET');
  });

  it('refuses a truncated bundle', async () => {
    await truncated(file('first.tar'), 0.6, file('cut.tar'));
    await refused(inside, file('cut.tar'), 'BUNDLE_INVALID', /truncated/, []);
    const v = await repoint(['bundle', 'verify', file('cut.tar')], inside.configPath);
    expect(v.code).toBe(1);
  });

  it('refuses a bundle signed by a key import.trustedKeys does not hold, before reading any blob', async () => {
    const err = await refused(stranger, file('first.tar'), 'BUNDLE_UNTRUSTED', /not signed by a trusted key/, []);
    expect(err).toContain(w.key.publicKeyArmoredPath);
  });

  it('refuses an incremental bundle whose base is missing, naming the missing checkpoint', async () => {
    const err = await refused(inside, file('incr.tar'), 'BUNDLE_BASE_MISSING', new RegExp(`needs checkpoint lab/${first} as its base`), []);
    expect(err).toMatch(/import the bundle that carries/);
  });

  it('resumes an interrupted import: blobs verified and stored by the failed attempts are skipped', async () => {
    const r = await repointOk(['import', file('first.tar'), '--remote', 'lab'], inside.configPath);
    expect(r.stdout).toMatch(new RegExp(`^imported lab: ${first}; \\d+ blobs .* written, [1-9]\\d* already present`));
    expect(await checkpointsOf(inside, 'lab')).toEqual([first]);
  });

  it('publishes a replayed older bundle behind the newest without moving live back', async () => {
    const replay = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { import: { trustedKeys: [join(dir, 'outside.asc')] } } });
    try {
      await repointOk(['import', file('second.tar'), '--remote', 'lab'], replay.configPath);
      const liveBefore = await (await fetch(`${replay.url}/lab/dists/stable/main/binary-amd64/Packages`)).text();
      expect(liveBefore).toMatch(/^Version: 2\.0-1$/m);
      await repointOk(['import', file('first.tar'), '--remote', 'lab'], replay.configPath);
      expect(await checkpointsOf(replay, 'lab')).toEqual([first, second]);
      const live = await (await fetch(`${replay.url}/lab/dists/stable/InRelease`)).text();
      expect(live).toBe(await (await fetch(`${replay.url}/lab/${second}/dists/stable/InRelease`)).text());
      expect(await (await fetch(`${replay.url}/lab/dists/stable/main/binary-amd64/Packages`)).text()).toBe(liveBefore);
      expect(await (await fetch(`${replay.url}/lab/${first}/dists/stable/main/binary-amd64/Packages`)).text()).toMatch(/^Version: 1\.0-1$/m);
    } finally {
      await replay.close();
    }
  });
});
