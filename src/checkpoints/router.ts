import { RepointError } from '../errors.ts';
import { resolveCheckpoint } from '../formats/checkpoint-time.ts';
import type { RemoteHandler, ServeRequest } from '../serve/remote-handler.ts';
import type { Reply } from '../serve/reply.ts';
import { encodePath } from '../upstream/retry-policy.ts';
import type { Catalogue } from './catalogue.ts';
import type { CheckpointSource } from './checkpoint-source.ts';
import type { CatalogueEntry } from './manifest.ts';

/** A path segment that is meant as a checkpoint timestamp (upstream trees never start with 8 digits). */
const TS_LIKE = /^\d{8}/;

/**
 * Wraps a live remote: `/<remote>/<TS>/...` is served from checkpoints (exact → 200, between →
 * 301 to the nearest earlier one, keeping the sub-path; before the first, future or malformed →
 * 404), `/<remote>/` lists them, and everything else goes to the live handler.
 */
export class CheckpointRouter implements RemoteHandler {
  readonly name: string;
  readonly type: RemoteHandler['type'];
  readonly #live: RemoteHandler & CheckpointSource;
  readonly #catalogue: Catalogue;

  constructor(live: RemoteHandler & CheckpointSource, catalogue: Catalogue) {
    this.name = live.name;
    this.type = live.type;
    this.#live = live;
    this.#catalogue = catalogue;
  }

  async handle(path: string, req: ServeRequest): Promise<Reply> {
    if (path === '') return listing(this.name, this.type, await this.#catalogue.list(this.name));
    const slash = path.indexOf('/');
    const seg = slash < 0 ? path : path.slice(0, slash);
    if (!TS_LIKE.test(seg)) return this.#live.handle(path, req);
    const rest = slash < 0 ? '' : path.slice(slash + 1);
    const entries = await this.#catalogue.list(this.name);
    const r = resolveCheckpoint(entries.map((e) => e.ts), seg, new Date());
    const where = `/${this.name}/${seg}/`;
    switch (r.kind) {
      case 'exact': {
        if (rest === '' || rest.endsWith('/')) throw new RepointError('NOT_FOUND', `no directory listing inside checkpoint ${where}`);
        const entry = entries.find((e) => e.ts === r.ts)!;
        return this.#live.serveCheckpoint(await this.#catalogue.manifest(entry.manifest), rest, req);
      }
      case 'earlier': {
        const location = `/${this.name}/${r.ts}/${encodePath(rest)}`;
        return { status: 301, contentType: 'text/plain; charset=utf-8', cacheControl: 'public, max-age=300', headers: { location }, body: { kind: 'bytes', data: Buffer.from(`${location}\n`) } };
      }
      case 'malformed': throw new RepointError('CHECKPOINT_NOT_FOUND', `"${seg}" is not a checkpoint timestamp; use YYYYMMDDTHHMMSSZ (UTC), e.g. 20240101T000000Z`);
      case 'future': throw new RepointError('CHECKPOINT_NOT_FOUND', `${seg} is in the future`);
      case 'before-first': throw new RepointError('CHECKPOINT_NOT_FOUND', `${seg} is before the first checkpoint of ${this.name} (${entries[0]?.ts ?? 'none'})`);
      case 'none': throw new RepointError('CHECKPOINT_NOT_FOUND', `remote ${this.name} has no checkpoints yet`);
    }
  }
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function listing(remote: string, type: string, entries: readonly CatalogueEntry[]): Reply {
  const rows = [...entries].reverse().map((e) => `<li><a href="${e.ts}/">${e.ts}</a> <small>${escapeHtml(e.createdAt)}, ${e.files} files</small></li>`).join('\n');
  const html = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${escapeHtml(remote)} checkpoints</title></head>\n<body><h1>${escapeHtml(remote)}</h1>\n`
    + `<p>Checkpoints (newest first). Pin a build to <code>/${escapeHtml(remote)}/&lt;YYYYMMDDTHHMMSSZ&gt;/</code>; a time between checkpoints redirects to the one before it.</p>\n`
    + `<p>Client configuration (sources, keys, pinning): <a href="/-/setup/${escapeHtml(type)}">/-/setup/${escapeHtml(type)}</a></p>\n`
    + `<ul>\n${rows || '<li>none yet</li>'}\n</ul></body></html>\n`;
  return { contentType: 'text/html; charset=utf-8', cacheControl: 'no-cache', body: { kind: 'bytes', data: Buffer.from(html) } };
}
