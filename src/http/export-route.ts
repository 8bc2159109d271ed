import { PassThrough, Readable } from 'node:stream';
import { completeFromUpstream, prepareBundle, selectCheckpoints, writePrepared } from '../bundles/exporter.ts';
import { RepointError } from '../errors.ts';
import { repositoryTypes } from '../registry.ts';
import type { Runtime } from '../runtime.ts';
import { exportSelectionOf } from './export-query.ts';

/**
 * `GET /-/api/remotes/<remote>/export?since=<TS>&checkpoint=<TS>&all=1` (admin token): the same bundle
 * `repoint export` writes, streamed (chained mirrors pull it with `repoint import <URL>` or importFrom).
 * 204 when nothing is newer than `since`. Planning and signing happen before the first byte, so an
 * error there is an ordinary error answer; a failure while streaming cuts the body, which the importer
 * refuses as truncated. A HEAD says only whether there is a bundle (200) or nothing newer (204): it
 * neither plans (which may download packages) nor starts a writer no one would read.
 */
export async function exportResponse(rt: Runtime, name: string, query: URLSearchParams, opts: { head?: boolean } = {}): Promise<Response> {
  const remote = rt.config.remotes.get(name);
  if (!remote) throw new RepointError('UNKNOWN_REMOTE', `unknown remote "${name}"`);
  const reader = repositoryTypes.get(remote.type);
  if (!reader) throw new RepointError('INTERNAL', `no "${remote.type}" repository type`);
  const select = exportSelectionOf(query);
  const { carried, base } = await selectCheckpoints(rt.checkpoints.catalogue, name, select);
  if (carried.length === 0) return new Response(null, { status: 204, headers: { 'cache-control': 'no-store' } });
  const headers = {
    'content-type': 'application/x-tar',
    'content-disposition': `attachment; filename="${name}-${carried.at(-1)!.ts}${base ? `-since-${base.ts}` : ''}.tar"`,
    'cache-control': 'no-store',
  };
  if (opts.head) return new Response(null, { status: 200, headers });
  const upstream = rt.upstreams.get(name);
  const prepared = await prepareBundle({
    remote, reader, catalogue: rt.checkpoints.catalogue, content: rt.content, signer: rt.signer, select,
    ...(upstream && remote.upstreams.length ? { complete: completeFromUpstream(rt.content, name, upstream) } : {}),
  }, carried, base);
  const body = new PassThrough({ highWaterMark: 1 << 20 });
  writePrepared(body, prepared, rt.content).catch((err: unknown) => {
    rt.log.error('export stream failed', { remote: name, reason: (err as Error).message });
    body.destroy(err as Error);
  });
  return new Response(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
    status: 200,
    headers: {
      ...headers,
      'x-repoint-bundle-blobs': String(prepared.manifest.totals.count),
      'x-repoint-bundle-bytes': String(prepared.manifest.totals.bytes),
    },
  });
}
