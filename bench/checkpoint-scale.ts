// Checkpoint cost at Debian scale: a generated, signed suite with ~63,000 Packages stanzas
// (bookworm main/amd64 has 63,440) served by a local upstream; `repoint checkpoint create` runs as its
// own process under /usr/bin/time, twice: the second, with upstream unchanged, shows what an unchanged
// checkpoint adds. Loopback only. Usage: npm run bench:checkpoint [-- STANZAS]
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { stringify } from 'yaml';
import { createGpgKey } from '../test/fixtures/gpg.ts';
import { run } from '../test/helpers/run.ts';
import { startUpstream } from '../test/upstream/server.ts';

const MAIN = resolve(import.meta.dirname, '..');
const NODE = join(MAIN, 'node_modules/.bin/node');
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const STANZAS = Number(process.argv[2] ?? 63_440);

async function writePackages(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  for (let i = 0; i < n; i++) {
    const name = `pkg${i.toString(36)}`;
    const hex = (i * 2654435761 >>> 0).toString(16).padStart(8, '0').repeat(8);
    const stanza = `Package: ${name}\nVersion: 1.${i % 97}-${i % 7}\nArchitecture: amd64\nMaintainer: Generated <gen@repoint.invalid>\n`
      + `Installed-Size: ${100 + (i % 5000)}\nDepends: libc6 (>= 2.36), libfoo${i % 300}\nSection: misc\nPriority: optional\n`
      + `Filename: pool/main/${name[3]}/${name}/${name}_1.${i % 97}-${i % 7}_amd64.deb\nSize: ${1000 + i}\nMD5sum: ${hex.slice(0, 32)}\nSHA256: ${hex}\n`
      + `Description: generated package ${i} for the checkpoint benchmark\nDescription-md5: ${hex.slice(32)}\n\n`;
    if (!out.write(stanza)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

async function tree(dir: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else { count++; bytes += (await stat(p)).size; }
    }
  };
  await walk(dir);
  return { count, bytes };
}

async function timed(args: string[]): Promise<{ seconds: number; maxRssKiB: number; stdout: string }> {
  const res = await run('/usr/bin/time', ['-v', NODE, ...NODE_ARGS, join(MAIN, 'src/cli/main.ts'), ...args], { timeoutMs: 900_000 });
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(res.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(res.stderr);
  const seconds = wall ? Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]) : NaN;
  return { seconds, maxRssKiB: Number(rss?.[1] ?? NaN), stdout: res.stdout.trim() };
}

const work = await mkdtemp(join(tmpdir(), 'repoint-cpbench-'));
try {
  const started = Date.now();
  const key = await createGpgKey('checkpoint bench');
  const root = join(work, 'repo');
  const bin = join(root, 'dists/bookworm/main/binary-amd64');
  await mkdir(bin, { recursive: true });
  await writePackages(join(bin, 'Packages'), STANZAS);
  await run('sh', ['-c', `xz -T0 -6 -k "${bin}/Packages" && gzip -9 -k "${bin}/Packages"`]);
  const rel = await run('apt-ftparchive', ['-o', 'APT::FTPArchive::Release::Origin=Bench', '-o', 'APT::FTPArchive::Release::Suite=bookworm',
    '-o', 'APT::FTPArchive::Release::Codename=bookworm', '-o', 'APT::FTPArchive::Release::Components=main', '-o', 'APT::FTPArchive::Release::Architectures=amd64',
    'release', join(root, 'dists/bookworm')]);
  await writeFile(join(root, 'dists/bookworm/Release'), rel.stdout);
  await key.gpg(['--clearsign', '--output', join(root, 'dists/bookworm/InRelease'), join(root, 'dists/bookworm/Release')]);
  const sizes = { plain: (await stat(join(bin, 'Packages'))).size, xz: (await stat(join(bin, 'Packages.xz'))).size };
  process.stdout.write(`generated ${STANZAS} stanzas: Packages ${(sizes.plain / 2 ** 20).toFixed(1)} MiB, Packages.xz ${(sizes.xz / 2 ** 20).toFixed(1)} MiB (${((Date.now() - started) / 1000).toFixed(1)} s)\n`);

  const up = await startUpstream({ root });
  const dataDir = join(work, 'data');
  const config = join(work, 'mirror.yaml');
  await writeFile(config, stringify({ listen: '127.0.0.1:0', dataDir, logLevel: 'warn', remotes: {
    deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, checkpoints: { suites: ['bookworm'], components: ['main'], architectures: ['amd64'], keep: 10 } },
  } }));
  const rows: string[] = [];
  for (const label of ['first checkpoint (cold)', 'second checkpoint (upstream unchanged)']) {
    const before = await tree(join(dataDir, 'blobs/sha256'));
    const r = await timed(['checkpoint', 'create', 'deb', '--config', config]);
    const after = await tree(join(dataDir, 'blobs/sha256'));
    rows.push(`${label.padEnd(40)} ${r.seconds.toFixed(2).padStart(7)} s   peak RSS ${(r.maxRssKiB / 1024).toFixed(0).padStart(4)} MiB   +${after.count - before.count} blobs, +${after.bytes - before.bytes} bytes   (${r.stdout})`);
  }
  await up.stop();
  process.stdout.write(`${rows.join('\n')}\n`);
} finally {
  await rm(work, { recursive: true, force: true, maxRetries: 3 });
}
