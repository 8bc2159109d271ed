import { join } from 'node:path';
import type { Agent } from 'undici';
import type { GpgKey } from '../test/fixtures/gpg.ts';
import type { YumFixture } from './fixtures.ts';
import { runHot, warm, type HotCase, type HotResult } from './hot.ts';
import { size as kb } from './format.ts';
import { download, getText } from './http.ts';
import type { Procs } from './procs.ts';
import { startRepoint, type RepointProc } from './repoint-proc.ts';
import type { WrkOptions } from './wrk.ts';

export type RpmOutcome = { skipped: string } | { results: HotResult[] };

export interface RpmOptions {
  dir: string;
  yum: YumFixture;
  key: GpgKey;
  /** nginx static base for the yum repository root */
  staticBase: string;
  small: WrkOptions;
  large: WrkOptions;
  agent: Agent;
  log: (line: string) => void;
}

const REMOTE = 'yum';

/** Why the yum remote cannot be benchmarked, or undefined when repomd, primary and both RPMs answer 200. */
async function probe(rp: RepointProc, o: RpmOptions): Promise<string | undefined> {
  const health = await rp.health();
  if (!health.remotes.some((r) => r.name === REMOTE && r.type === 'yum')) return 'health does not list the yum remote';
  const base = `${rp.url}/${REMOTE}`;
  const repomd = await getText(`${base}/repodata/repomd.xml`, o.agent);
  if (repomd.status !== 200) return `repodata/repomd.xml answered ${repomd.status}`;
  const hrefs = [...repomd.text.matchAll(/<location\s+href="([^"]+)"/g)].map((m) => m[1] ?? '');
  for (const href of hrefs) {
    const d = await download(`${base}/${href}`, o.agent);
    if (d.status !== 200 && href.includes('primary')) return `${href} answered ${d.status}`;
  }
  for (const f of [o.yum.small, o.yum.big]) {
    const d = await download(`${base}/${f.path}`, o.agent);
    if (d.status !== 200 || d.bytes !== f.size) return `${f.path} answered ${d.status} (${d.bytes} of ${f.size} bytes)`;
  }
  return undefined;
}

/** Hot small and large RPM through a yum remote, against nginx static, if repoint offers yum. */
export async function runRpm(procs: Procs, o: RpmOptions): Promise<RpmOutcome> {
  let rp: RepointProc;
  try {
    rp = await startRepoint(procs, {
      dir: join(o.dir, 'repoint-yum'),
      remotes: { [REMOTE]: { type: 'yum', upstream: `${o.staticBase}`, keyring: o.key.publicKeyArmoredPath } },
    });
  } catch (err) {
    return { skipped: `yum remote not available: repoint did not start (${firstLine(err)})` };
  }
  try {
    const why = await probe(rp, o).catch((err: unknown) => firstLine(err));
    if (why) return { skipped: `yum remote not available: ${why}` };
    const bases = { repoint: `${rp.url}/${REMOTE}`, 'nginx static': o.staticBase };
    const cases: HotCase[] = [
      { id: 'rpm-small', label: `small RPM (${kb(o.yum.small.size)})`, file: o.yum.small, metric: 'req/s', wrk: o.small },
      { id: 'rpm-large', label: `large RPM (${kb(o.yum.big.size)})`, file: o.yum.big, metric: 'MiB/s', wrk: o.large },
    ];
    await warm(bases, cases, o.agent);
    const results: HotResult[] = [];
    for (const c of cases) results.push(...(await runHot(procs, bases, c, o.log)));
    return { results };
  } finally {
    await procs.stop(rp.child);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
