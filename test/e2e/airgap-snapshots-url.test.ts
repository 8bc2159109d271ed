// `repoint import` is another process than the serving node: without publicUrl it takes the address
// the serving node recorded when it bound its port, not the configured listen port (0 here).
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCheckpoint, repointOk, saveKey } from '../helpers/airgap.ts';
import { startAptWorld, tempDir, type AptWorld } from '../helpers/apt-world.ts';
import { describeE2E } from '../helpers/e2e.ts';
import { startProxy, type TestProxy } from '../helpers/proxy.ts';

const TOKEN = 'snapshots-url-token';

// The inside node listens on 127.0.0.1:0 (startProxy's default; a valid config): its own
// checkpoints get Snapshots: with the bound port (runtime.publicUrl), but an imported one gets
// the port from the config file, as `repoint import` runs in its own process (publicBase).
describeE2E('Snapshots: of an imported checkpoint names the address the inside node listens on (listen port 0, no publicUrl)', ['gpg', 'dpkg-deb', 'apt-ftparchive'], () => {
  let w: AptWorld;
  let inside: TestProxy;
  beforeAll(async () => {
    w = await startAptWorld({ packages: [{ name: 'steady', version: '1' }], remote: { checkpoints: { suites: ['stable'] } }, extra: { admin: { token: TOKEN } } });
    await createCheckpoint(w.proxy, w.remote, TOKEN);
    const dir = await tempDir('repoint-snapshots-url-');
    const outsideKey = await saveKey(w.proxy, dir, 'outside', 'asc');
    await repointOk(['export', w.remote, '--output', join(dir, 'full.tar')], w.proxy.configPath);
    inside = await startProxy({ remotes: { lab: { type: 'apt' } }, extra: { import: { trustedKeys: [outsideKey] } } });
    await repointOk(['import', join(dir, 'full.tar'), '--remote', 'lab'], inside.configPath);
  }, 120_000);
  afterAll(async () => {
    await inside?.close();
    await w?.close();
  });

  it('InRelease Snapshots: points at the serving node', async () => {
    const text = await (await fetch(`${inside.url}/lab/dists/stable/InRelease`)).text();
    expect(text).toContain(`Snapshots: ${inside.url}/lab/@SNAPSHOTID@/`);
  });
});
