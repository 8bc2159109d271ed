import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCheckpoint, repointOk, saveKey } from '../helpers/airgap.ts';
import { startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { freePort } from '../helpers/ports.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { startRecordingProxy, type RecordingProxy } from '../helpers/recording-proxy.ts';
import { createChrootApt, describeTrixie, type ChrootApt } from '../helpers/trixie-chroot.ts';

const TOKEN = 'airgap-setup-token';

// The inside node of the README ("remotes: debian: { type: apt }", "rocky: { type: yum }"): its
// /-/setup pages are what inside clients follow. The live InRelease/repomd.xml.asc are signed by the
// inside key, so the stanzas must name it.
describeTrixie('/-/setup of an offline (air-gap inside) remote: apt follows the page with only the inside key', () => {
  let w: AptWorld;
  let inside: TestProxy;
  let rec: RecordingProxy;
  let apt: ChrootApt;

  beforeAll(async () => {
    w = await startAptWorld({ packages: [{ name: 'steady', version: '1' }], remote: { checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN } } });
    await createCheckpoint(w.proxy, w.remote, TOKEN);
    const dir = await tempDir('repoint-airgap-setup-');
    const outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
    await repointOk(['export', w.remote, '--output', join(dir, 'full.tar')], w.proxy.configPath);
    inside = await startProxy({ remotes: { lab: { type: 'apt' }, labrpm: { type: 'yum' } }, extra: { listen: `127.0.0.1:${await freePort()}`, import: { trustedKeys: [outsideKey] } } });
    await repointOk(['import', join(dir, 'full.tar'), '--remote', 'lab'], inside.configPath);
    await w.upstream.down();
  }, 120_000);
  afterAll(async () => {
    await apt?.cleanup();
    await rec?.stop();
    await inside?.close();
    await w?.close();
  });

  it('apt: the setup stanza, with the key installed as the page says, lets apt update verify', async () => {
    const page = await (await fetch(`${inside.url}/-/setup/apt`)).text();
    // the stanza the page gives for remote lab, with the suite filled in as it asks
    const stanza = /# \/etc\/apt\/sources\.list\.d\/repoint-lab\.sources\n((?:[A-Z][^\n]*\n)+)/.exec(page)?.[1];
    expect(stanza, page).toBeDefined();
    const sources = stanza!.replace('<suite>', 'stable').replace('/etc/apt/keyrings/repoint.gpg', '/mnt/keyrings/repoint.gpg');
    rec = await startRecordingProxy(inside.url);
    const keyring = new Uint8Array(await (await fetch(`${inside.url}/-/keys/mirror.gpg`)).arrayBuffer());
    apt = await createChrootApt({ sources, keyring, proxy: rec.url });
    const r = await apt.apt(['update']);
    expect(`${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^(W|E|Err):/.test(l)), `${page}\n---\n${r.stdout}${r.stderr}`).toEqual([]);
  });

  it('yum: the live stanza checks repomd.xml.asc with the inside key', async () => {
    const page = await (await fetch(`${inside.url}/-/setup/yum`)).text();
    const section = page.slice(page.indexOf('# ---- remote labrpm ----'));
    expect(section, page).toMatch(/^repo_gpgcheck=1$/m);
    expect(section, page).toContain(`gpgkey=${inside.url}/-/keys/mirror.asc`);
  });
});
