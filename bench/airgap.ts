// Air gap throughput at Debian scale: a generated, signed suite of 63,440 Packages stanzas whose
// packages (random bytes, ~5 KB each, ~300 MB in all) are all in the outside node's store; then
//   export:  repoint export deb --output - | sha256sum       (the bundle is hashed like the reference)
//   import:  repoint import bundle.tar  into an empty offline node (verify, store, completeness, re-sign, index)
// beside the physical reference `tar cf - <the same blob files> | sha256sum` (the issue's), with peak RSS of
// the repoint process (/usr/bin/time). That reference only reads; an import must create one file per blob,
// so the import is also shown beside the physical write reference `tar xf bundle.tar && sync -f` (files
// created, then one durability barrier). Loopback only. Usage: npm run bench:airgap [-- STANZAS]
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { FsBlobStore } from '../src/blobs/fs-blob-store.ts';
import { forEachLimit } from '../src/checkpoints/limit.ts';
import { blobEntryName } from '../src/bundles/bundle-manifest.ts';
import { loadOrCreateSigner } from '../src/trust/signer.ts';
import { createGpgKey } from '../test/fixtures/gpg.ts';
import { run } from '../test/helpers/run.ts';
import { startUpstream } from '../test/upstream/server.ts';

const MAIN = resolve(import.meta.dirname, '..');
const NODE = join(MAIN, 'node_modules/.bin/node');
const CLI = join(MAIN, 'bin/repoint.js');
const STANZAS = Number(process.argv[2] ?? 63_440);
const log = (line: string): void => void process.stderr.write(`${line}\n`);

/** ~5 KB on average (2-8 KB), deterministic sizes; contents random. */
const sizeOf = (i: number): number => 2000 + ((i * 7919) % 6001);

async function generate(root: string, store: FsBlobStore): Promise<{ bytes: number }> {
  const bin = join(root, 'dists/bookworm/main/binary-amd64');
  await mkdir(bin, { recursive: true });
  const out = createWriteStream(join(bin, 'Packages'));
  let bytes = 0;
  const indexes = Array.from({ length: STANZAS }, (_, i) => i);
  await forEachLimit(indexes, 16, async (i) => {
    const data = randomBytes(sizeOf(i));
    const w = await store.createWriter();
    await w.write(data);
    await w.commit();
    bytes += data.length;
    const name = `pkg${i.toString(36)}`;
    const sha = createHash('sha256').update(data).digest('hex');
    const stanza = `Package: ${name}\nVersion: 1.${i % 97}-${i % 7}\nArchitecture: amd64\nMaintainer: Generated <gen@repoint.invalid>\n`
      + `Installed-Size: ${Math.ceil(data.length / 1024)}\nDepends: libc6 (>= 2.36)\nSection: misc\nPriority: optional\n`
      + `Filename: pool/main/${name[3]}/${name}/${name}_1.${i % 97}-${i % 7}_amd64.deb\nSize: ${data.length}\nSHA256: ${sha}\n`
      + `Description: generated package ${i} for the air gap benchmark\n\n`;
    if (!out.write(stanza)) await once(out, 'drain');
  });
  out.end();
  await once(out, 'finish');
  return { bytes };
}

/** Wall time, CPU time (user+sys of the whole pipeline) and the largest process's peak RSS. */
async function timed(pipeline: string): Promise<{ seconds: number; cpu: number; rssMiB: number; stdout: string }> {
  const timeFile = join(tmpdir(), `repoint-airgap-time-${process.pid}`);
  const started = process.hrtime.bigint();
  const res = await run('/usr/bin/time', ['-v', '-o', timeFile, 'bash', '-c', `set -o pipefail; ${pipeline}`], { timeoutMs: 1_800_000 });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const t = await readFile(timeFile, 'utf8');
  await rm(timeFile, { force: true });
  const num = (re: RegExp): number => Number(re.exec(t)?.[1] ?? NaN);
  const cpu = num(/User time \(seconds\): ([\d.]+)/) + num(/System time \(seconds\): ([\d.]+)/);
  return { seconds, cpu, rssMiB: num(/Maximum resident set size \(kbytes\): (\d+)/) / 1024, stdout: res.stdout.trim() };
}

const work = await mkdtemp(join(tmpdir(), 'repoint-airgap-bench-'));
try {
  const key = await createGpgKey('air gap bench');
  const root = join(work, 'repo');
  const outsideData = join(work, 'outside');
  const store = await FsBlobStore.open(join(outsideData, 'blobs'));
  let t0 = Date.now();
  const { bytes: pkgBytes } = await generate(root, store);
  await store.close();
  const bin = join(root, 'dists/bookworm/main/binary-amd64');
  await run('sh', ['-c', `xz -T0 -6 -k "${bin}/Packages"`]);
  const rel = await run('apt-ftparchive', ['-o', 'APT::FTPArchive::Release::Origin=Bench', '-o', 'APT::FTPArchive::Release::Suite=bookworm',
    '-o', 'APT::FTPArchive::Release::Codename=bookworm', '-o', 'APT::FTPArchive::Release::Components=main', '-o', 'APT::FTPArchive::Release::Architectures=amd64',
    'release', join(root, 'dists/bookworm')]);
  await writeFile(join(root, 'dists/bookworm/Release'), rel.stdout);
  await key.gpg(['--clearsign', '--output', join(root, 'dists/bookworm/InRelease'), join(root, 'dists/bookworm/Release')]);
  log(`generated ${STANZAS} stanzas and ${(pkgBytes / 2 ** 20).toFixed(0)} MiB of packages in the outside store (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const up = await startUpstream({ root });
  const outsideCfg = join(work, 'outside.yaml');
  await writeFile(outsideCfg, stringify({ listen: '127.0.0.1:0', dataDir: outsideData, logLevel: 'warn', remotes: {
    deb: { type: 'apt', upstream: up.url, keyring: key.publicKeyPath, checkpoints: { suites: ['bookworm'], components: ['main'], architectures: ['amd64'] } },
  } }));
  t0 = Date.now();
  await run(NODE, [CLI, 'checkpoint', 'create', 'deb', '--config', outsideCfg], { timeoutMs: 1_800_000 });
  await up.stop();
  log(`checkpoint created (${((Date.now() - t0) / 1000).toFixed(1)} s)`);

  const bundle = join(work, 'bundle.tar');
  await run(NODE, [CLI, 'export', 'deb', '--output', bundle, '--config', outsideCfg], { timeoutMs: 1_800_000 });
  const manifest = JSON.parse((await run('tar', ['xOf', bundle, 'bundle.json'])).stdout) as { blobs: Array<{ sha256: string; size: number }>; totals: { count: number; bytes: number } };
  const list = join(work, 'blobs.list');
  await writeFile(list, `${manifest.blobs.map((b) => blobEntryName(b.sha256).slice('blobs/'.length)).join('\n')}\n`);
  const mib = manifest.totals.bytes / 2 ** 20;
  const tarRef = `tar cf - -C ${join(outsideData, 'blobs')} -T ${list} | sha256sum`;

  const reference = await timed(tarRef); // page cache warm for both, as for the export after it
  const exported = await timed(`${NODE} ${CLI} export deb --output - --config ${outsideCfg} 2>/dev/null | sha256sum`);
  const reference2 = await timed(tarRef);
  const [refRun] = [reference, reference2].sort((a, b) => a.seconds - b.seconds);
  const ref = refRun!.seconds;

  const insideData = join(work, 'inside');
  const insideCfg = join(work, 'inside.yaml');
  await writeFile(join(work, 'outside.asc'), (await loadOrCreateSigner(join(outsideData, 'keys/mirror.asc'))).publicKeyArmored);
  await writeFile(insideCfg, stringify({ listen: '127.0.0.1:0', dataDir: insideData, logLevel: 'warn', import: { trustedKeys: [join(work, 'outside.asc')] }, remotes: { deb: { type: 'apt' } } }));
  const imported = await timed(`${NODE} ${CLI} import ${bundle} --config ${insideCfg}`);
  const bundleBytes = (await stat(bundle)).size;
  const untar = join(work, 'untar');
  await mkdir(untar);
  const writeRef = await timed(`tar xf ${bundle} -C ${untar} && sync -f ${untar}`);

  const row = (label: string, r: { seconds: number; cpu: number; rssMiB: number }, vs = refRun!): string =>
    `${label.padEnd(50)} ${r.seconds.toFixed(2).padStart(7)} s  ${(mib / r.seconds).toFixed(0).padStart(5)} MiB/s  ${(ref / r.seconds).toFixed(2).padStart(5)}x ref`
    + `  | CPU ${r.cpu.toFixed(2).padStart(6)} s  ${(refRun!.cpu / r.cpu).toFixed(2).padStart(5)}x ref  | peak RSS ${r.rssMiB.toFixed(0)} MiB`
    + (vs === refRun ? '' : `  | ${(vs.seconds / r.seconds).toFixed(2)}x write ref (wall), ${(vs.cpu / r.cpu).toFixed(2)}x (CPU)`);
  process.stdout.write([
    `load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(' ')} (${cpus().length} CPUs)`,
    `bundle: ${manifest.totals.count} blobs, ${mib.toFixed(1)} MiB of blobs, ${(bundleBytes / 2 ** 20).toFixed(1)} MiB tar (${STANZAS} stanzas)`,
    row('reference: tar cf - <blob files> | sha256sum', refRun!),
    row('repoint export --output - | sha256sum', exported),
    row('write reference: tar xf bundle.tar && sync -f', writeRef),
    row('repoint import bundle.tar (offline node, sqlite)', imported, writeRef),
    `import: ${imported.stdout}`,
  ].join('\n') + '\n');
} finally {
  if (process.env.BENCH_KEEP) log(`kept ${work}`);
  else await rm(work, { recursive: true, force: true, maxRetries: 3 });
}
