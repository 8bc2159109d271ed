import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAptRepo } from '../fixtures/apt-repo.ts';
import { createGpgKey, type GpgKey } from '../fixtures/gpg.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';
import { run } from '../helpers/run.ts';
import { startUpstream, type Upstream } from '../upstream/server.ts';

// issue 9: GET /-/setup/apt and /-/setup/yum give copy-paste client configuration.
const TOOLS = ['apt-config', 'gpg', 'dpkg-deb', 'apt-ftparchive'];
const PUBLIC = 'http://mirror.test:8080';

describeE2E('client setup pages (issue 9)', TOOLS, () => {
  let key: GpgKey;
  let up: Upstream;
  let proxy: TestProxy;
  let apt: string;
  beforeAll(async () => {
    key = await createGpgKey();
    const root = await mkdtemp(join(tmpdir(), 'repoint-setup-'));
    await buildAptRepo({ key, dir: join(root, 'main'), packages: [{ name: 'a', version: '1' }], label: 'Example Archive' });
    await buildAptRepo({ key, dir: join(root, 'security'), suite: 'stable-security', packages: [{ name: 'a', version: '2' }], label: 'Debian-Security', origin: 'Debian' });
    up = await startUpstream({ root });
    const aptRemote = (path: string, extra: Record<string, unknown>) => ({ type: 'apt', upstream: `${up.url}/${path}`, keyring: key.publicKeyPath, ...extra });
    proxy = await startProxy({
      extra: { publicUrl: PUBLIC },
      remotes: {
        live: aptRemote('main', { resign: true, checkpoints: { suites: ['stable'] } }),
        pinned: aptRemote('main', { checkpoints: { suites: ['stable'], components: ['main', 'contrib'] } }),
        pinned2: aptRemote('main', { checkpoints: { suites: ['stable'] } }),
        sec: aptRemote('security', { resign: true, checkpoints: { suites: ['stable-security'] } }),
        plain: aptRemote('main', {}),
        el: { type: 'yum', upstream: `${up.url}/el`, keyring: key.publicKeyArmoredPath, checkpoints: { repos: ['9/BaseOS/x86_64/os'] } },
        lab: { type: 'apt' }, // offline (air gap): only imports, re-signed by the mirror
        labrpm: { type: 'yum' },
      },
    });
    const res = await fetch(`${proxy.url}/-/setup/apt`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    apt = await res.text();
  });
  afterAll(async () => {
    await proxy?.close();
    await up?.stop();
  });

  /** The text of one remote's section. */
  const section = (name: string): string => {
    const start = apt.indexOf(`# ---- remote ${name}`);
    const end = apt.indexOf('# ---- remote ', start + 1);
    return apt.slice(start, end < 0 ? undefined : end);
  };

  it('gives the keyring download and a deb822 stanza per remote, Signed-By the mirror key for resign remotes', () => {
    expect(apt).toContain(`curl -fsSL -o /etc/apt/keyrings/repoint.gpg ${PUBLIC}/-/keys/mirror.gpg\n`);
    expect(section('live')).toContain(`Types: deb\nURIs: ${PUBLIC}/live\nSuites: stable\nComponents: main\nSigned-By: /etc/apt/keyrings/repoint.gpg\n`);
    expect(section('pinned')).toContain(`URIs: ${PUBLIC}/pinned\nSuites: stable\nComponents: main contrib\nSigned-By: ${key.publicKeyPath} /etc/apt/keyrings/repoint.gpg\n`);
    expect(section('plain')).toContain(`Signed-By: ${key.publicKeyPath}\n`);
    expect(section('plain')).toMatch(/No checkpoints are configured/);
    expect(apt).not.toContain(up.url); // upstream URLs (which may carry credentials) stay on the mirror
  });

  it('names the mirror key alone for an offline remote (air gap), whose every Release it re-signed at import', async () => {
    expect(section('lab')).toContain(`URIs: ${PUBLIC}/lab\nSuites: <suite>\nComponents: main\nSigned-By: /etc/apt/keyrings/repoint.gpg\n`);
    expect(section('lab')).not.toMatch(/No checkpoints are configured|upstream's, unchanged/);
    const yum = await (await fetch(`${proxy.url}/-/setup/yum`)).text();
    const labrpm = yum.slice(yum.indexOf('# ---- remote labrpm'));
    expect(labrpm).toMatch(/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\n/);
    expect(labrpm).toContain(`gpgkey=${PUBLIC}/-/keys/mirror.asc\n`);
  });

  it('routes apt -S with Label overrides read from the verified live Release, and warns when two remotes share a Label', () => {
    expect(section('pinned')).toContain(`"Acquire::Snapshots::URI::Override::Label::Example Archive" "${PUBLIC}/pinned/@SNAPSHOTID@/";`);
    expect(section('pinned2')).toContain(`"Acquire::Snapshots::URI::Override::Label::Example Archive" "${PUBLIC}/pinned2/@SNAPSHOTID@/";`);
    expect(apt).toMatch(/WARNING: remotes pinned and pinned2 share Label Example Archive/);
    // resign: the live Release's Snapshots: field is enough ...
    expect(section('live')).not.toContain('Acquire::Snapshots');
    expect(section('live')).toContain(`Snapshots: ${PUBLIC}/live/@SNAPSHOTID@/`);
    // ... except against apt's own Debian-Security override, which beats the field
    expect(section('sec')).toContain(`Acquire::Snapshots::URI::Override::Label::Debian-Security "${PUBLIC}/sec/@SNAPSHOTID@/";`);
  });

  it('writes lines apt itself parses', async () => {
    const lines = apt.split('\n').filter((l) => /Acquire::Snapshots/.test(l) && !l.startsWith('#'));
    expect(lines).toHaveLength(3);
    const conf = join(await mkdtemp(join(tmpdir(), 'repoint-aptconf-')), 'snapshots.conf');
    await writeFile(conf, `${lines.join('\n')}\n`);
    const dump = (await run('apt-config', ['-c', conf, 'dump'], { env: { ...process.env, APT_CONFIG: conf } })).stdout;
    expect(dump).toContain(`Acquire::Snapshots::URI::Override::Label::Example%20Archive "${PUBLIC}/pinned2/@SNAPSHOTID@/";`);
    expect(dump).toContain(`Acquire::Snapshots::URI::Override::Label::Debian-Security "${PUBLIC}/sec/@SNAPSHOTID@/";`);
  });

  it('gives .repo stanzas for yum remotes, live and pinned to a checkpoint', async () => {
    const res = await fetch(`${proxy.url}/-/setup/yum`);
    expect(res.status).toBe(200);
    const yum = await res.text();
    expect(yum).toContain(`[repoint-el-9-BaseOS-x86_64-os]\nname=el 9/BaseOS/x86_64/os (repoint)\nbaseurl=${PUBLIC}/el/9/BaseOS/x86_64/os/\nenabled=1\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=file://${key.publicKeyArmoredPath}\n`);
    expect(yum).toContain(`baseurl=${PUBLIC}/el/<YYYYMMDDTHHMMSSZ>/9/BaseOS/x86_64/os/\nenabled=0\ngpgcheck=1\nrepo_gpgcheck=1\ngpgkey=${PUBLIC}/-/keys/mirror.asc\n`);
    expect(yum).not.toContain('# ---- remote live');
  });

  it('is linked from the remote listing pages', async () => {
    expect(await (await fetch(`${proxy.url}/live/`)).text()).toContain('<a href="/-/setup/apt">');
    expect(await (await fetch(`${proxy.url}/el/`)).text()).toContain('<a href="/-/setup/yum">');
    expect((await fetch(`${proxy.url}/-/setup/zypper`)).status).toBe(404);
  });
});
