import type { Dispatcher } from 'undici';
import { isRepointError, RepointError } from '../errors.ts';
import { openBundleSource } from './bundle-files.ts';
import { importBundle, type ImportInput, type ImportResult } from './importer.ts';

export type PullInput = Omit<ImportInput, 'source' | 'remote'> & { remote: string; url: string; token?: string; dispatcher?: Dispatcher; signal?: AbortSignal };

/**
 * Pulls a bundle from another repoint's export endpoint into `remote`: an incremental one since the
 * newest checkpoint here (unless the URL names `since`, or one `checkpoint`, itself), or a full one
 * when the other node no longer keeps that checkpoint. Returns 'up-to-date' when it has nothing
 * newer, or already has the one checkpoint the URL names.
 */
export async function pullBundle(input: PullInput): Promise<ImportResult | 'up-to-date'> {
  if (!URL.canParse(input.url)) throw new RepointError('CONFIG_INVALID', `not a valid URL: ${input.url.replace(/[?#].*$/, '')}`);
  const here = await input.catalogue.list(input.remote);
  const newest = here.at(-1);
  const url = new URL(input.url);
  const one = url.searchParams.get('checkpoint');
  if (one !== null && here.some((e) => e.ts === one)) return 'up-to-date';
  // with since = newest here, a named checkpoint older than that would be refused as "not newer"
  const auto = newest !== undefined && !url.searchParams.has('since') && one === null;
  if (auto) url.searchParams.set('since', newest.ts);
  const opts = { timeoutMs: input.config.upstream.bodyTimeoutMs, ...(input.token ? { token: input.token } : {}), ...(input.dispatcher ? { dispatcher: input.dispatcher } : {}), ...(input.signal ? { signal: input.signal } : {}) };
  let source;
  try {
    source = await openBundleSource(url.toString(), opts);
  } catch (err) {
    if (!auto || !isRepointError(err, 'NOT_FOUND')) throw err;
    input.log.info('the exporter no longer keeps our newest checkpoint: pulling a full bundle', { remote: input.remote, since: newest.ts });
    url.searchParams.delete('since');
    source = await openBundleSource(url.toString(), opts);
  }
  if (source.kind === 'up-to-date') return 'up-to-date';
  return importBundle({ ...input, source: source.stream, remote: input.remote });
}
