import { createWriteStream } from 'node:fs';
import { rename, unlink } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { SplitWriter } from '../bundles/bundle-files.ts';
import { completeFromUpstream, prepareBundle, selectCheckpoints, writePrepared, type ExportSelection } from '../bundles/exporter.ts';
import { parseSize } from '../config/units.ts';
import type { Config } from '../config/types.ts';
import { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { repositoryTypes } from '../registry.ts';
import { createRuntime } from '../runtime.ts';
import { formatBytes, Progress } from './progress.ts';

export interface ExportOptions extends ExportSelection {
  output?: string;
  split?: string;
}

const USAGE = 'usage: repoint export <remote> --output FILE.tar|- [--checkpoint TS | --all] [--since TS] [--split SIZE]';

type Target = { kind: 'stdout' } | { kind: 'file'; path: string } | { kind: 'split'; path: string; bytes: number };

/** Where the tar goes, checked before any work (a usage error, exit 2, names what is wrong). */
function targetOf(output: string, split: string | undefined): Target | string {
  if (output === '-') return split === undefined ? { kind: 'stdout' } : '--split writes files; it cannot be used with --output -';
  if (split === undefined) return { kind: 'file', path: output };
  const bytes = parseSize(split);
  return bytes === undefined || bytes < 1 ? `--split: expected a size like "4GiB", got "${split}"` : { kind: 'split', path: output, bytes };
}

/** Stdout, split parts, or FILE.tar written under a temp name and renamed at the end. */
function openOutput(target: Target): { out: Writable; done: () => Promise<string>; fail: () => Promise<void> } {
  if (target.kind === 'stdout') return { out: process.stdout, done: async () => 'stdout', fail: async () => {} };
  const output = target.path;
  if (target.kind === 'split') {
    const w = new SplitWriter(output, target.bytes);
    return { out: w, done: async () => `${w.written.length} parts ${w.written[0] ?? ''} ... ${w.written.at(-1) ?? ''}`, fail: () => w.remove() };
  }
  const temp = `${output}.part-${process.pid}`;
  const out = createWriteStream(temp, { flush: true });
  // settles once the open is over either way (listeners attached now: the events may be long past by fail())
  const opened = new Promise<void>((resolve) => { for (const e of ['ready', 'error', 'close']) out.once(e, () => resolve()); });
  return {
    out,
    done: async () => { await rename(temp, output); return output; },
    fail: async () => {
      // a signal may come while the file is still being opened: unlinked before, it would appear after
      await opened;
      out.destroy();
      await unlink(temp).catch(() => {});
    },
  };
}

/** `repoint export <remote> --output FILE.tar`: a signed bundle of checkpoints, for the other side of an air gap. */
export async function runExport(config: Config, log: Logger, args: string[], opts: ExportOptions): Promise<number> {
  const [name] = args;
  if (!name || !opts.output) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  if (opts.all && opts.checkpoint !== undefined) {
    process.stderr.write(`repoint: --checkpoint and --all exclude each other\n${USAGE}\n`);
    return 2;
  }
  const target = targetOf(opts.output, opts.split);
  if (typeof target === 'string') {
    process.stderr.write(`repoint: ${target}\n${USAGE}\n`);
    return 2;
  }
  const remote = config.remotes.get(name);
  if (!remote) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${name}"; configured: ${[...config.remotes.keys()].join(', ')}`);
  // Runs beside a serving node on the same data dir: its downloads in progress stay untouched.
  const rt = await createRuntime(config, log, { removeTempFiles: false });
  try {
    const reader = repositoryTypes.get(remote.type)!;
    const upstream = rt.upstreams.get(name);
    const { carried, base } = await selectCheckpoints(rt.checkpoints.catalogue, name, opts);
    if (carried.length === 0) {
      process.stderr.write(`repoint: nothing to export: ${name}/${base?.ts ?? ''} is already the newest checkpoint\n`);
      return 1;
    }
    const progress = new Progress(`export ${name}`);
    const started = Date.now();
    const prepared = await prepareBundle({
      remote, reader, catalogue: rt.checkpoints.catalogue, content: rt.content, signer: rt.signer, select: opts,
      syncIo: true, // this process does nothing else: no thread-pool round trip per file
      // an on-demand checkpoint is completed from upstream, verified like any download
      ...(upstream && remote.upstreams.length ? { complete: completeFromUpstream(rt.content, name, upstream) } : {}),
      onPlan: (p) => progress.update(`listing: ${p.blobs} blobs${p.completed ? `, ${p.completed} fetched from upstream` : ''}`),
    }, carried, base);
    const total = prepared.manifest.totals;
    const output = openOutput(target);
    // Ctrl-C or a TERM while writing: no partial FILE.tar.part-* or FILE.tar.NNN is left behind
    const interrupted = (signal: NodeJS.Signals): void => {
      void output.fail().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
    const writeStart = Date.now();
    try {
      await writePrepared(output.out, prepared, rt.content, (p) => {
        const s = (Date.now() - writeStart) / 1000;
        progress.update(`${p.files}/${total.count} files, ${formatBytes(p.bytes)}/${formatBytes(total.bytes)}, ${formatBytes(s > 0 ? p.bytes / s : 0)}/s`);
      }, { syncIo: true });
    } catch (err) {
      await output.fail();
      throw err;
    } finally {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    }
    const where = await output.done();
    const secs = (Date.now() - started) / 1000;
    progress.done(`${prepared.manifest.checkpoints.map((c) => c.ts).join(', ')}${base ? ` since ${base.ts}` : ''}: ${total.count} blobs, ${formatBytes(total.bytes)}`
      + `${prepared.manifest.since ? ` (${prepared.manifest.since.blobs.length} more in the base)` : ''} in ${secs.toFixed(1)} s -> ${where}`);
    return 0;
  } finally {
    await rt.close();
  }
}
