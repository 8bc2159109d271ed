/** The `remotes:` part of the config schema: one apt or yum remote per name. */
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { choice, cron, duration, flag, got, httpUrl, oneOrMany, strict, text, wholeNumber } from './fields.ts';
import { accessOf, checkOneCredentialSource, missingAccessFile, resolveAccessFiles, upstreamAccess, type UpstreamAuth, type UpstreamTls } from './upstream-access.ts';

const REMOTE_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const NAME_RULE = 'remote names must match [a-z0-9][a-z0-9._-]*';

const schedule = cron().optional()
  .describe('node-cron expression, e.g. "0 */6 * * *"; omit for manual-only (repoint checkpoint create <remote>).');
const packages = choice(['on-demand', 'immediate']).default('on-demand')
  .describe('on-demand: fetched and verified when asked | immediate: all downloaded at checkpoint time.');
const keep = wholeNumber(1, 100_000).default(30)
  .describe('The newest N checkpoints are kept; `repoint gc` frees what only dropped ones used.');

/** Kinds of apt index (apt/formats/checkpoint-select.ts classifies Release paths into the same list). */
export const APT_INDEX_KINDS = ['packages', 'sources', 'contents', 'translations', 'dep11', 'commands', 'other'] as const;

export const aptCheckpointsSchema = strict({
  schedule,
  // Optional in the file so an offline remote can set only `keep`; required with an upstream (checkOffline).
  suites: oneOrMany(text()).prefault([]).describe('Suites to checkpoint, e.g. [bookworm, bookworm-updates]. Required when the remote has an upstream.'),
  components: oneOrMany(text()).prefault(['main']).describe('Components to checkpoint.'),
  architectures: oneOrMany(text()).prefault(['amd64'])
    .describe('Architectures; binary-all is included when Release lists it; add "source" for Sources.'),
  indexes: oneOrMany(choice(APT_INDEX_KINDS)).prefault([...APT_INDEX_KINDS])
    .refine((k) => k.includes('packages'), { error: 'must include packages: apt needs the Packages indexes (e.g. [packages] keeps only what apt-get install needs)' })
    .describe('Kinds of index kept: packages, sources, contents, translations, dep11, commands, other (per-architecture Release files, pdiff indexes, ...). Default: all of them. Packages and Sources fail the checkpoint when they do not verify; the others are left out, and listed in the checkpoint\'s JSON.'),
  packages,
  keep,
});

export const yumCheckpointsSchema = strict({
  schedule,
  // "/" or "." is the repository at the remote's root.
  repos: oneOrMany(text().transform((r) => (r === '.' ? '' : r.replace(/^\/+|\/+$/g, '')))).prefault([])
    .describe('Repositories (directories holding repodata/) under the remote, e.g. "releases/41/Everything/x86_64/os"; "/" is the remote root. Required when the remote has an upstream.'),
  packages,
  keep,
  trustTls: flag().default(false)
    .describe('Re-sign repomd.xml that no keyring verified, trusting the https connection to upstream instead (https upstreams only). Needed for checkpoints of a remote without keyring.'),
});

const upstream = oneOrMany(httpUrl('expected an http(s) URL')).optional()
  .describe('Upstream base URL, or a list of mirrors tried in order (failover). Omit it (and keyring) for an offline remote: it serves only checkpoints brought in by `repoint import` (air gap), its live paths answering from the newest one.');
const importFrom = strict({
  url: httpUrl('expected the http(s) URL of another repoint\'s export endpoint, e.g. "https://outside:8080/-/api/remotes/debian/export"')
    .describe('The export endpoint of another repoint: <its base>/-/api/remotes/<its remote>/export.'),
  token: text().optional().describe('That node\'s admin token, sent as `Authorization: Bearer <token>`, inline. Prefer tokenFile.'),
  tokenFile: text().optional().describe('A file holding that node\'s admin token (trailing newline ignored), read at each pull; relative to this file.'),
  schedule: cron().describe('node-cron expression for the pulls, e.g. "*/15 * * * *". One pull runs at a time.'),
}).refine((f) => f.token === undefined || f.tokenFile === undefined, { error: 'set at most one of token or tokenFile' }).optional()
  .describe('Pull checkpoints from another repoint (chained mirrors, a DMZ tier) on a schedule: each pull asks for an incremental bundle since the newest checkpoint here, verifies it with import.trustedKeys and imports it.');
const tuning = {
  metadataTtl: duration().prefault('5m').describe('How long a verified InRelease/repomd.xml is served before it is revalidated upstream.'),
  strict: flag().default(false).describe('true: paths no verified index lists are refused (404). false: streamed through, never cached.'),
  allowSha1: flag().default(false).describe('Accept SHA-1 signatures (openpgp.js refuses them by default). Only for old third-party repositories.'),
};

/** Renames the file's keys to what the code uses. */
function common(r: {
  upstream?: string[] | undefined; keyring?: string[] | undefined; metadataTtl: number; strict: boolean; allowSha1: boolean;
  auth?: UpstreamAuth | undefined; tls?: UpstreamTls | undefined; redirectHosts: string[]; importFrom?: ImportFrom | undefined;
}) {
  return {
    ...accessOf({ ...r, upstream: r.upstream ?? [] }), keyrings: r.keyring ?? [], metadataTtlMs: r.metadataTtl, strict: r.strict, allowSha1: r.allowSha1,
    ...(r.importFrom ? { importFrom: r.importFrom } : {}),
  };
}
type ImportFrom = NonNullable<z.output<typeof importFrom>>;

const aptRemote = strict({
  type: z.literal('apt').default('apt').describe('Repository type: apt | yum.'),
  upstream,
  keyring: oneOrMany(text()).optional()
    .describe('The upstream archive keyring: binary (.gpg) or armored (.asc); one path or a list. Required with an upstream; an offline remote has none. A missing file disables only this remote.'),
  ...tuning,
  resign: flag().default(false)
    .describe('Serve the live InRelease, Release and Release.gpg re-signed with the mirror key (after verifying upstream\'s signature), with `Snapshots: <publicUrl>/<remote>/@SNAPSHOTID@/`, so `apt -S <checkpoint>` reaches this mirror. Clients then trust only the mirror key. Indexes and packages stay byte-identical.'),
  ...upstreamAccess,
  importFrom,
  checkpoints: aptCheckpointsSchema.optional()
    .describe('Immutable, re-signed snapshots served at /<remote>/<YYYYMMDDTHHMMSSZ>/ (UTC). Omit to disable.'),
  // for editors: with an upstream, apt needs its keyring (checkOffline says so for loadConfig)
}).meta({ dependentRequired: { upstream: ['keyring'] } })
  .superRefine(checkOneCredentialSource).transform(({ type, checkpoints, resign, ...r }) => ({ type, ...common(r), resign, ...(checkpoints ? { checkpoints } : {}) }));

const yumRemote = strict({
  type: z.literal('yum').describe('Repository type: apt | yum.'),
  upstream,
  keyring: oneOrMany(text()).optional()
    .describe('Optional for yum: when set, repodata/repomd.xml.asc is required and verified with it. Without it repomd.xml is trusted as fetched over https.'),
  ...tuning,
  ...upstreamAccess,
  importFrom,
  checkpoints: yumCheckpointsSchema.optional()
    .describe('Immutable, re-signed snapshots served at /<remote>/<YYYYMMDDTHHMMSSZ>/ (UTC). Omit to disable.'),
}).superRefine(checkOneCredentialSource).transform(({ type, checkpoints, ...r }) => ({ type, ...common(r), ...(checkpoints ? { checkpoints } : {}) }));

const remoteSchema = z.discriminatedUnion('type', [aptRemote, yumRemote], {
  error: (iss) => iss.code === 'invalid_union'
    ? `expected one of apt | yum, got ${got(typeof iss.input === 'object' && iss.input !== null ? (iss.input as { type?: unknown }).type : undefined)}`
    : `expected a mapping with upstream (and keyring for apt), got ${got(iss.input)}`,
});
type ParsedRemote = z.output<typeof remoteSchema>;

// zod skips a "__proto__" key silently (it guards against prototype pollution); refuse it like any other bad name.
function refuseProtoKey(v: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof v === 'object' && v !== null && Object.hasOwn(v, '__proto__')) {
    ctx.issues.push({ code: 'custom', message: NAME_RULE, input: v, path: ['__proto__'] });
  }
  return v;
}

/**
 * A remote without upstream is offline (air gap): its checkpoints come only from imports, which are
 * verified with import.trustedKeys, so a keyring or a checkpoint schedule would mean a mistake. With an
 * upstream, apt needs its keyring and a checkpoints block needs its suites/repos.
 */
function checkOffline(remotes: Record<string, ParsedRemote>, ctx: z.RefinementCtx): void {
  for (const [name, r] of Object.entries(remotes)) {
    if (!Array.isArray(r.upstreams)) continue; // this remote failed to parse: its own issue is reported
    const issue = (path: string[], message: string): void => ctx.addIssue({ code: 'custom', path: [name, ...path], message });
    if (r.importFrom) {
      const u = new URL(r.importFrom.url);
      if (u.username || u.password) issue(['importFrom', 'url'], `credentials in the URL are not sent (and would be logged): remove them and put the other node's admin token in remotes.${name}.importFrom.tokenFile`);
      if (r.upstreams.length > 0) issue(['importFrom'], `only an offline remote (no upstream) pulls its checkpoints from another repoint: remove remotes.${name}.importFrom, or remove upstream and keyring to make remotes.${name} offline`);
    }
    if (r.upstreams.length === 0) {
      if (r.keyrings.length > 0) issue(['keyring'], `an offline remote (no upstream) takes its checkpoints from imports, verified with import.trustedKeys: remove remotes.${name}.keyring, or set remotes.${name}.upstream`);
      if (r.checkpoints?.schedule) issue(['checkpoints', 'schedule'], `an offline remote (no upstream) cannot make checkpoints; they come from \`repoint import\` or remotes.${name}.importFrom: remove the schedule`);
      continue;
    }
    if (r.type === 'apt' && r.keyrings.length === 0) issue(['keyring'], 'required for apt remotes: the upstream archive keyring (e.g. /usr/share/keyrings/debian-archive-keyring.gpg); only an offline remote (no upstream) has none');
    if (r.checkpoints && (r.type === 'apt' ? r.checkpoints.suites : r.checkpoints.repos).length === 0) {
      issue(['checkpoints', r.type === 'apt' ? 'suites' : 'repos'], `required; list the ${r.type === 'apt' ? 'suites' : 'repositories'} to checkpoint`);
    }
  }
}

// A checkpoint re-signs repomd.xml with the mirror key: it must have been verified first.
function checkYumTrust(remotes: Record<string, ParsedRemote>, ctx: z.RefinementCtx): void {
  for (const [name, r] of Object.entries(remotes)) {
    if (!Array.isArray(r.upstreams) || r.type !== 'yum' || !r.checkpoints || r.keyrings.length > 0 || r.upstreams.length === 0) continue;
    if (!r.checkpoints.trustTls) {
      ctx.addIssue({
        code: 'custom', path: [name, 'checkpoints'],
        message: `checkpoints re-sign repomd.xml, so it must be verified: set remotes.${name}.keyring (upstream signs repomd.xml.asc), or set remotes.${name}.checkpoints.trustTls: true to trust repomd.xml fetched over https (as Pulp does)`,
      });
    } else if (r.upstreams.some((u) => !u.startsWith('https://'))) {
      ctx.addIssue({ code: 'custom', path: [name, 'checkpoints', 'trustTls'], message: 'only https upstreams can be trusted without a keyring; use https:// URLs or a keyring' });
    }
  }
}

/** A missing keyring disables only its remote (e.g. the example's Ubuntu remote on a Debian host). */
function missingKeyring(keyPath: string, keyrings: readonly string[]): string | undefined {
  const i = keyrings.findIndex((k) => !existsSync(k));
  if (i < 0) return undefined;
  return `${keyrings.length > 1 ? `${keyPath}[${i}]` : keyPath}: file not found: ${keyrings[i]} (install the distribution's keyring package, fix the path, or remove the remote)`;
}

/** `remotes:` by name; keyring paths are resolved with `rel` (against the config file's directory). */
export function remotesSchema(rel: (path: string) => string) {
  const remotes = z.record(z.string().regex(REMOTE_NAME), remoteSchema, {
    error: (iss) => (iss.code === 'invalid_key' ? NAME_RULE : `expected a mapping of remote names, got ${got(iss.input)}`),
  });
  return z.preprocess(refuseProtoKey, remotes)
    .refine((r) => Object.keys(r).length > 0, { error: 'no remotes configured; add at least one (see mirror.example.yaml)' })
    .superRefine(checkOffline)
    .superRefine(checkYumTrust)
    .transform((r) => new Map(Object.entries(r).map(([name, remote]) => {
      const keyrings = remote.keyrings.map(rel);
      const access = resolveAccessFiles(remote, rel);
      const unavailable = missingKeyring(`remotes.${name}.keyring`, keyrings) ?? missingAccessFile(name, access);
      const from = remote.importFrom;
      const importFrom = from?.tokenFile === undefined ? from : { ...from, tokenFile: rel(from.tokenFile) };
      const config = { name, ...remote, keyrings, ...access, ...(importFrom ? { importFrom } : {}), ...(unavailable ? { unavailable } : {}) };
      return [name, config] as const;
    })))
    .describe('Remotes by name (matching [a-z0-9][a-z0-9._-]*); each is served at http://<proxy>/<name>/<upstream path>.');
}
