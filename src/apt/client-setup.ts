import type { AptRemoteConfig } from '../config/types.ts';
import type { ClientSetupContext } from '../repository-type.ts';
import { AptRemote } from './apt-remote.ts';
import { BUILTIN_LABEL_OVERRIDES, deb822Stanza, snapshotOverride } from './formats/client-config.ts';

/** Where the setup page tells clients to put the mirror key. */
export const MIRROR_KEYRING = '/etc/apt/keyrings/repoint.gpg';

/** Label and Origin of one suite's verified live Release, when the mirror has one (or can get one now). */
interface SuiteIdentity {
  suite: string;
  label?: string;
  origin?: string;
}

async function identities(remote: AptRemote | undefined, suites: readonly string[]): Promise<SuiteIdentity[]> {
  const out: SuiteIdentity[] = [];
  for (const suite of suites) {
    const dir = `dists/${suite}`;
    let cur = remote ? await remote.releases.current(dir) : undefined;
    if (remote && !cur) {
      // what a client's apt update would do first; a failure only leaves the Label unknown
      await remote.releases.fresh('inrelease', dir).catch(() => undefined);
      cur = await remote.releases.current(dir);
    }
    out.push({ suite, ...(cur?.release.label ? { label: cur.release.label } : {}), ...(cur?.release.origin ? { origin: cur.release.origin } : {}) });
  }
  return out;
}

/** One override line per Label (else Origin) that must route `apt -S` for this remote to the mirror. */
interface Override {
  remote: string;
  by: 'Label' | 'Origin';
  value: string;
  line: string;
}

function overridesFor(r: AptRemoteConfig, ids: readonly SuiteIdentity[], snapshotUri: string): Override[] {
  const out = new Map<string, Override>();
  for (const id of ids) {
    const by = id.label ? 'Label' : id.origin ? 'Origin' : undefined;
    const value = id.label ?? id.origin;
    if (!by || !value) continue;
    // resign: the live Release's Snapshots: field already points here; only apt's built-in overrides beat it
    if (r.resign && !(by === 'Label' && BUILTIN_LABEL_OVERRIDES.includes(value))) continue;
    out.set(`${by}:${value}`, { remote: r.name, by, value, line: snapshotOverride(by, value, snapshotUri) });
  }
  return [...out.values()];
}

/** `GET /-/setup/apt`: for every apt remote, a deb822 stanza, the key download, and the `apt -S` routing. */
export async function aptClientSetup(ctx: ClientSetupContext): Promise<string> {
  const base = ctx.baseUrl;
  const head = [
    `# repoint: apt client configuration for ${base}`,
    '# Copy what you need. Run as root.',
    '#',
    '# The mirror key signs every checkpoint, and the live metadata of remotes with resign: true:',
    'install -d -m 0755 /etc/apt/keyrings',
    `curl -fsSL -o ${MIRROR_KEYRING} ${base}/-/keys/mirror.gpg`,
    '',
  ];
  const sections: string[] = [];
  const overrides: Override[] = [];
  for (const rc of ctx.remotes) {
    if (rc.type !== 'apt') continue;
    const live = ctx.live(rc.name);
    const remote = live instanceof AptRemote ? live : undefined;
    const suites = rc.checkpoints?.suites ?? [];
    const snapshotUri = `${base}/${rc.name}/@SNAPSHOTID@/`;
    const own = rc.checkpoints ? overridesFor(rc, await identities(remote, suites), snapshotUri) : [];
    overrides.push(...own);
    sections.push(remoteSection(rc, { base, own, newest: await ctx.newestCheckpoint(rc.name) }));
  }
  const shared = sharedOverrides(overrides);
  const warnings = [...shared].map(([key, names]) =>
    `# WARNING: remotes ${names.join(' and ')} share ${key.replace(':', ' ')}: apt reads one Acquire::Snapshots::URI::Override line per Label, so apt -S reaches only the last one's checkpoints. Set resign: true on them (their Snapshots: field tells them apart).`);
  return [...head, ...(warnings.length ? [...warnings, ''] : []), ...sections].join('\n');
}

function sharedOverrides(list: readonly Override[]): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const o of list) {
    const key = `${o.by}:${o.value}`;
    by.set(key, [...(by.get(key) ?? []), o.remote]);
  }
  return new Map([...by].filter(([, names]) => names.length > 1));
}

function remoteSection(rc: AptRemoteConfig, v: { base: string; own: readonly Override[]; newest: string | undefined }): string {
  const out = [`# ---- remote ${rc.name}${rc.resign ? ' (resign: true)' : ''} ----`];
  if (rc.unavailable) out.push(`# This remote is disabled on the mirror: ${rc.unavailable}`);
  const suites = rc.checkpoints?.suites ?? [];
  // an offline remote (air gap) serves only imports, every Release re-signed by this mirror's key
  const offline = rc.upstreams.length === 0;
  const signedBy = rc.resign || offline ? MIRROR_KEYRING : [...rc.keyrings, ...(rc.checkpoints ? [MIRROR_KEYRING] : [])].join(' ');
  if (offline) {
    out.push('# An offline remote (air gap): it serves the checkpoints imported into this mirror, each re-signed by the', '# mirror key at import (live paths: the newest). Signed-By is the mirror key alone.');
  } else if (!rc.resign) {
    out.push(
      `# Signed-By names the upstream keyring at the path this mirror's config uses (${rc.keyrings.join(', ')}):`,
      '# the live InRelease is upstream\'s, unchanged. Install the same keyring package on the client, or fix the path.',
      ...(rc.checkpoints ? ['# The mirror key is listed too: it signs the checkpoints that apt -S reaches.'] : []),
    );
  }
  if (suites.length === 0) out.push('# Suites: put the suites you use (this remote has no checkpoints.suites to take them from).');
  out.push(`# /etc/apt/sources.list.d/repoint-${rc.name}.sources`);
  out.push(deb822Stanza([
    ['Types', 'deb'],
    ['URIs', `${v.base}/${rc.name}`],
    ['Suites', suites.length ? suites.join(' ') : '<suite>'],
    ['Components', (rc.checkpoints?.components ?? ['main']).join(' ')],
    ['Signed-By', signedBy],
  ]));
  if (!rc.checkpoints && !offline) {
    out.push('# No checkpoints are configured for this remote, so there is nothing for apt -S to pin to.', '');
    return out.join('\n');
  }
  const example = v.newest ?? '<YYYYMMDDTHHMMSSZ>';
  out.push(
    `# Pin to a checkpoint with apt >= 2.7: apt -S ${example} update (or "Snapshot: ${example}" in the stanza).`,
    `# Any apt: URIs: ${v.base}/${rc.name}/${example}  (a time between checkpoints redirects to the one before it).`,
  );
  if (rc.resign) out.push(`# The live InRelease carries Snapshots: ${v.base}/${rc.name}/@SNAPSHOTID@/, so apt -S needs nothing more${v.own.length ? ' except:' : '.'}`);
  else out.push('# apt finds snapshot servers by the live Release\'s Label; these lines send this remote\'s to the mirror:');
  if (v.own.length) out.push(`# /etc/apt/apt.conf.d/80repoint-${rc.name}`, ...v.own.map((o) => o.line));
  else if (!rc.resign) out.push(`# (the Label of ${suites.join(', ')} is not known yet: the mirror has no verified InRelease for it; reload this page after an apt update)`);
  out.push('');
  return out.join('\n');
}
