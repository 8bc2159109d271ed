import type { YumRemoteConfig } from '../config/types.ts';
import type { ClientSetupContext } from '../repository-type.ts';

/** A repo id dnf accepts: letters, digits and `-_.:`. */
function repoId(...parts: string[]): string {
  return parts.filter((p) => p.length > 0).join('-').replace(/[^A-Za-z0-9_.:-]+/g, '-');
}

function stanza(lines: ReadonlyArray<string>): string {
  return lines.join('\n') + '\n';
}

/** `GET /-/setup/yum`: for every yum remote, `.repo` stanzas for the live repositories and for pinning to a checkpoint. */
export async function yumClientSetup(ctx: ClientSetupContext): Promise<string> {
  const base = ctx.baseUrl;
  const out = [
    `# repoint: yum/dnf client configuration for ${base}`,
    '# Put each remote\'s stanzas in /etc/yum.repos.d/, and remove metalink= and mirrorlist= from the',
    '# distribution\'s own .repo files for the same repositories (or disable those).',
    '# gpgcheck=1 checks RPM signatures with your distribution\'s key, which is usually imported already;',
    '# add its file:///etc/pki/rpm-gpg/... path to gpgkey= if it is not.',
    '',
  ];
  for (const rc of ctx.remotes) {
    if (rc.type === 'yum') out.push(remoteSection(rc, base, await ctx.newestCheckpoint(rc.name)));
  }
  return out.join('\n');
}

function remoteSection(rc: YumRemoteConfig, base: string, newest: string | undefined): string {
  const out = [`# ---- remote ${rc.name} ----`];
  if (rc.unavailable) out.push(`# This remote is disabled on the mirror: ${rc.unavailable}`);
  const repos = rc.checkpoints?.repos ?? ['<path to the directory holding repodata/>'];
  if (!rc.checkpoints) out.push('# baseurl: put the repository path (this remote has no checkpoints.repos to take it from).');
  // an offline remote (air gap) serves only imports, each repomd.xml.asc made by this mirror's key
  const offline = rc.upstreams.length === 0;
  if (offline) {
    out.push('# An offline remote (air gap): it serves the checkpoints imported into this mirror (live: the newest);',
      `# repomd.xml.asc is the mirror's (gpgkey=${base}/-/keys/mirror.asc). The packages keep their distribution's`,
      '# signatures: gpgcheck=1 needs that distribution\'s RPM key installed on the client (as from its release package).');
  } else if (rc.keyrings.length) {
    out.push(`# repomd.xml is upstream's and signed by its key; gpgkey= names the path this mirror's config uses (${rc.keyrings.join(', ')}).`);
  }
  const repoKeys = offline ? [`${base}/-/keys/mirror.asc`] : rc.keyrings.map((k) => `file://${k}`);
  out.push(`# /etc/yum.repos.d/repoint-${rc.name}.repo`);
  for (const dir of repos) {
    out.push(stanza([
      `[${repoId('repoint', rc.name, dir)}]`,
      `name=${rc.name} ${dir} (repoint)`,
      `baseurl=${base}/${rc.name}/${dir ? `${dir}/` : ''}`,
      'enabled=1',
      'gpgcheck=1',
      `repo_gpgcheck=${repoKeys.length ? 1 : 0}`,
      ...(repoKeys.length ? [`gpgkey=${repoKeys.join(' ')}`] : []),
    ]));
  }
  if (!rc.checkpoints && !offline) return out.join('\n');
  const ts = newest ?? '<YYYYMMDDTHHMMSSZ>';
  out.push(
    `# Pinned to a checkpoint${newest ? ` (the newest is ${newest})` : ''}: repomd.xml is upstream's, repomd.xml.asc the mirror's.`,
    '# A time between checkpoints redirects to the one before it.',
  );
  for (const dir of repos) {
    out.push(stanza([
      `[${repoId('repoint', rc.name, dir, 'pinned')}]`,
      `name=${rc.name} ${dir} at ${ts} (repoint)`,
      `baseurl=${base}/${rc.name}/${ts}/${dir ? `${dir}/` : ''}`,
      'enabled=0',
      'gpgcheck=1',
      'repo_gpgcheck=1',
      `gpgkey=${base}/-/keys/mirror.asc`,
    ]));
  }
  return out.join('\n');
}
