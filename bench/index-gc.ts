// State growth and gc of index records (issue 8, finding 10): a generated, signed suite of STANZAS
// Packages stanzas is republished VERSIONS times (every stanza changes), each version checkpointed by
// `repoint checkpoint create` (keep: 1, so only the newest is kept); then `repoint gc --all` runs.
// Prints the state's rows and bytes before and after. The ingestion markers are aged past gc's 1 h
// grace first (gc leaves young ones alone). Loopback only. Usage: node bench/index-gc.ts [STANZAS] [VERSIONS]
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { stringify } from 'yaml';
import { createGpgKey } from '../test/fixtures/gpg.ts';
import { run } from '../test/helpers/run.ts';
import { startUpstream } from '../test/upstream/server.ts';

const MAIN = resolve(import.meta.dirname, '..');
const NODE = join(MAIN, 'node_modules/.bin/node');
const STANZAS = Number(process.argv[2] ?? 200_000);
const VERSIONS = Number(process.argv[3] ?? 4);

async function writePackages(file: string, n: number, v: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const name = `pkg${i.toString(36)}`;
    const hex = ((i * 2654435761 + v) >>> 0).toString(16).padStart(8, '0').repeat(8);
    const stanza = `Package: ${name}\nVersion: ${v}.${i % 97}\nArchitecture: amd64\nInstalled-Size: ${100 + (i % 5000)}\n`
      + `Filename: pool/main/${name[3]}/${name}/${name}_${v}.${i % 97}_amd64.deb\nSize: ${1000 + i}\nSHA256: ${hex}\nDescription: generated ${i}\n\n`;
    if (!out.write(stanza)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function cli(args: string[]): Promise<{ seconds: number; stdout: string }> {
  const started = Date.now();
  const res = await run(NODE, [join(MAIN, 'src/cli/main.ts'), ...args], { timeoutMs: 1_800_000 });
  return { seconds: (Date.now() - started) / 1000, stdout: res.stdout.trim() || res.stderr.trim() };
}

async function fileBytes(path: string): Promise<number> {
  let n = 0;
  for (const p of [path, `${path}-wal`]) n += await stat(p).then((s) => s.size, () => 0);
  return n;
}

/** Rows of index records, all rows, and the bytes the database's pages in use take. */
function stateFigures(path: string): { records: number; rows: number; usedBytes: number } {
  const db = new DatabaseSync(path);
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const one = (sql: string): number => Number(Object.values(db.prepare(sql).get() ?? {})[0]);
    const records = one("SELECT count(*) FROM kv WHERE key >= 'repoint::apt:idx:' AND key < 'repoint::apt:idx;'");
    const rows = one('SELECT count(*) FROM kv');
    const usedBytes = (one('PRAGMA page_count') - one('PRAGMA freelist_count')) * one('PRAGMA page_size');
    return { records, rows, usedBytes };
  } finally {
    db.close();
  }
}

const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
const work = await mkdtemp(join(tmpdir(), 'repoint-idxgc-'));
try {
  const key = await createGpgKey('index gc bench');
  const root = join(work, 'repo');
  const bin = join(root, 'dists/bookworm/main/binary-amd64');
  await mkdir(bin, { recursive: true });
  const up = await startUpstream({ root });
  const dataDir = join(work, 'data');
  const config = join(work, 'mirror.yaml');
  await writeFile(config, stringify({ listen: '127.0.0.1:0', dataDir, logLevel: 'warn', remotes: {
    deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, checkpoints: { suites: ['bookworm'], components: ['main'], architectures: ['amd64'], keep: 1 } },
  } }));
  for (let v = 1; v <= VERSIONS; v++) {
    await rm(join(bin, 'Packages.xz'), { force: true });
    await writePackages(join(bin, 'Packages'), STANZAS, v);
    await run('xz', ['-T0', '-3', '-k', join(bin, 'Packages')]);
    const rel = await run('apt-ftparchive', ['-o', 'APT::FTPArchive::Release::Suite=bookworm', '-o', 'APT::FTPArchive::Release::Codename=bookworm',
      '-o', 'APT::FTPArchive::Release::Components=main', '-o', 'APT::FTPArchive::Release::Architectures=amd64', 'release', join(root, 'dists/bookworm')]);
    await writeFile(join(root, 'dists/bookworm/Release'), rel.stdout);
    await rm(join(root, 'dists/bookworm/InRelease'), { force: true });
    await key.gpg(['--clearsign', '--output', join(root, 'dists/bookworm/InRelease'), join(root, 'dists/bookworm/Release')]);
    const r = await cli(['checkpoint', 'create', 'deb', '--config', config]);
    process.stdout.write(`version ${v}: checkpoint ${r.seconds.toFixed(1)} s (${r.stdout.split('\n').at(-1)})\n`);
    await new Promise((res) => setTimeout(res, 1100)); // Release Date has second resolution
  }
  await up.stop();
  const sqlite = join(dataDir, 'state/state.sqlite');
  const before = { ...stateFigures(sqlite), file: await fileBytes(sqlite) };
  const db = new DatabaseSync(sqlite);
  db.exec("UPDATE kv SET value = json_set(value, '$.value.at', 0) WHERE key >= 'repoint::apt:ingested:' AND key < 'repoint::apt:ingested;'");
  db.close();
  const gc = await cli(['gc', '--all', '--config', config]);
  const after = { ...stateFigures(sqlite), file: await fileBytes(sqlite) };
  process.stdout.write(`${STANZAS} stanzas x ${VERSIONS} versions, keep: 1\n`
    + `before gc: ${before.records} index records, ${before.rows} rows, ${mib(before.usedBytes)} in use, file ${mib(before.file)}\n`
    + `gc --all:  ${gc.seconds.toFixed(1)} s (${gc.stdout.split('\n').at(-1)})\n`
    + `after gc:  ${after.records} index records, ${after.rows} rows, ${mib(after.usedBytes)} in use, file ${mib(after.file)} (free pages are reused; VACUUM returns them)\n`);
} finally {
  await rm(work, { recursive: true, force: true, maxRetries: 3 });
}
