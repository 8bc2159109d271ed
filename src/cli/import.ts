import type { Config } from '../config/types.ts';
import { openBundleSource } from '../bundles/bundle-files.ts';
import { importBundle, type ImportResult } from '../bundles/importer.ts';
import { importBase } from '../bundles/public-base.ts';
import { pullBundle } from '../bundles/pull.ts';
import { RepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { repositoryTypes } from '../registry.ts';
import { createRuntime } from '../runtime.ts';
import { loadTrustedKeys } from '../bundles/trusted-keys.ts';
import { readSecretFile } from '../upstream/credentials.ts';
import { formatBytes, Progress } from './progress.ts';

export interface ImportOptions {
  /** Import into this remote (default: the bundle's remote name). */
  remote?: string;
  /** Admin token of the exporting node, for an http(s) source (visible in `ps`: prefer tokenFile). */
  token?: string;
  /** A file holding that token. */
  tokenFile?: string;
}

const USAGE = 'usage: repoint import FILE.tar | FILE.tar.000 | - | https://<node>/-/api/remotes/<remote>/export [--remote NAME] [--token-file FILE | --token TOKEN]';

/** The remote a pull from an export URL goes into: --remote, else the remote named in the URL. */
function pullTarget(url: string, remote: string | undefined): string {
  const named = /\/-\/api\/remotes\/([^/?#]+)\/export(?:[?#]|$)/.exec(url)?.[1];
  const target = remote ?? named;
  if (!target) throw new RepointError('CONFIG_INVALID', `cannot tell which remote to import ${url} into; pass --remote NAME`);
  return target;
}

export function summary(r: ImportResult, secs: number): string {
  const published = r.published.map((e) => e.ts).join(', ') || (r.tooOld.length ? 'nothing published' : 'nothing new');
  const already = r.already.length ? `; ${r.already.length} already here` : '';
  const tooOld = r.tooOld.length ? `; ${r.tooOld.join(', ')} older than every checkpoint checkpoints.keep keeps here, not published` : '';
  return `imported ${r.remote}: ${published}${already}${tooOld}; ${r.written.files} blobs (${formatBytes(r.written.bytes)}) written, ${r.present} already present, in ${secs.toFixed(1)} s`;
}

/** `repoint import`: verifies and imports a bundle; exit 0 with a one-line summary, else an error and nothing published. */
export async function runImport(config: Config, log: Logger, args: string[], opts: ImportOptions): Promise<number> {
  const [src] = args;
  if (!src || (opts.token !== undefined && opts.tokenFile !== undefined)) {
    process.stderr.write(`${src ? 'repoint: give --token or --token-file, not both\n' : ''}${USAGE}\n`);
    return 2;
  }
  const token = opts.tokenFile !== undefined ? await readSecretFile('--token-file', opts.tokenFile) : opts.token;
  const trusted = await loadTrustedKeys(config);
  // Runs beside a serving node on the same data dir: its downloads in progress stay untouched.
  const rt = await createRuntime(config, log, { removeTempFiles: false });
  try {
    const progress = new Progress('import');
    const started = Date.now();
    const deps = {
      config, types: repositoryTypes, content: rt.content, catalogue: rt.checkpoints.catalogue, signer: rt.signer, trusted,
      baseUrl: await importBase(config, rt.content.state), log,
      syncIo: true, // this process does nothing else: no thread-pool round trip per file
      onProgress: (p: { files: number; bytes: number; total: { files: number; bytes: number } }) => {
        const s = (Date.now() - started) / 1000;
        progress.update(`${p.files}/${p.total.files} files, ${formatBytes(p.bytes)}/${formatBytes(p.total.bytes)}, ${formatBytes(s > 0 ? p.bytes / s : 0)}/s`);
      },
    };
    // Ctrl-C or TERM: the bundle stops being read, so the import fails as it would on a cut bundle,
    // publishing nothing, keeping what verified and releasing its lease (a re-run goes on at once).
    // A second signal exits at once.
    const stop = new AbortController();
    const interrupted = (signal: NodeJS.Signals): void => {
      if (stop.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
      stop.abort(signal);
    };
    process.on('SIGINT', interrupted);
    process.on('SIGTERM', interrupted);
    let result: ImportResult | 'up-to-date';
    try {
      if (/^https?:\/\//i.test(src)) {
        const remote = pullTarget(src, opts.remote);
        result = await pullBundle({ ...deps, remote, url: src, ...(token ? { token } : {}), signal: stop.signal });
        if (result === 'up-to-date') {
          process.stdout.write(`${remote}: up to date (${src.replace(/[?#].*$/, '')} has nothing newer)\n`);
          return 0;
        }
      } else {
        const source = await openBundleSource(src);
        if (source.kind !== 'stream') throw new RepointError('INTERNAL', `unexpected source ${source.name}`);
        stop.signal.addEventListener('abort', () => source.stream.destroy(new Error('interrupted')), { once: true });
        result = await importBundle({ ...deps, source: source.stream, ...(opts.remote ? { remote: opts.remote } : {}) });
      }
    } catch (err) {
      if (!stop.signal.aborted) throw err;
      progress.done('interrupted');
      process.stderr.write('repoint: import interrupted; nothing published (blobs that verified are kept: a re-run skips them)\n');
      return stop.signal.reason === 'SIGINT' ? 130 : 143;
    } finally {
      process.off('SIGINT', interrupted);
      process.off('SIGTERM', interrupted);
    }
    progress.done('done');
    process.stdout.write(`${summary(result, (Date.now() - started) / 1000)}\n`);
    return 0;
  } finally {
    await rt.close();
  }
}
