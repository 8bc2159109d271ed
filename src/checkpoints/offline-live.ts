import { isRepointError, RepointError } from '../errors.ts';
import type { RemoteHandler, ServeRequest } from '../serve/remote-handler.ts';
import type { Reply } from '../serve/reply.ts';
import type { Catalogue } from './catalogue.ts';
import type { CheckpointSource, SnapshotContext, SnapshotResult } from './checkpoint-source.ts';
import type { CheckpointManifest } from './manifest.ts';

/**
 * The live side of an offline remote (no upstream; air gap): its live paths (`/<remote>/dists/...`,
 * `/<remote>/<repo>/repodata/...`) answer from the checkpoint with the newest timestamp, so inside
 * clients keep one stable source line and move forward with each import. Importing an older bundle
 * never changes which one that is. Type-free: the type's own serveCheckpoint does the serving.
 *
 * A client that read the previous InRelease/repomd.xml just before an import still asks for what
 * that one lists (by-hash indexes, data files, packages the newer indexes dropped): a path the newest
 * checkpoint does not have is looked up in the kept ones before it, newest first, as a live remote
 * keeps its last few Release generations (DESIGN "Coherence").
 */
/** The newest checkpoint and the ones before it that live paths answer from (a live remote keeps 5 Release generations). */
const GENERATIONS = 5;

export class OfflineLive implements RemoteHandler, CheckpointSource {
  readonly name: string;
  readonly type: RemoteHandler['type'];
  readonly #inner: RemoteHandler & CheckpointSource;
  readonly #catalogue: Catalogue;

  constructor(inner: RemoteHandler & CheckpointSource, catalogue: Catalogue) {
    this.name = inner.name;
    this.type = inner.type;
    this.#inner = inner;
    this.#catalogue = catalogue;
  }

  async handle(path: string, req: ServeRequest): Promise<Reply> {
    // Read through to the state store (not a cache): another process's import shows from the next request on.
    const kept = await this.#catalogue.list(this.name);
    if (kept.length === 0) {
      throw new RepointError('NO_CHECKPOINT_YET', `remote ${this.name} is offline (no upstream) and has no checkpoint yet: import a bundle with "repoint import FILE.tar"`);
    }
    let first: unknown;
    for (const entry of kept.slice(-GENERATIONS).reverse()) {
      try {
        const reply = await this.#inner.serveCheckpoint(await this.#catalogue.manifest(entry.manifest), path, req);
        // The same path answers from the next checkpoint after an import: clients must revalidate it.
        return { ...reply, cacheControl: 'no-cache' };
      } catch (err) {
        if (!isRepointError(err, 'NOT_FOUND') && !isRepointError(err, 'NOT_IN_INDEX')) throw err;
        first ??= err; // the newest checkpoint's answer is the one to give
      }
    }
    throw first;
  }

  snapshot(_ctx: SnapshotContext): Promise<SnapshotResult> {
    return Promise.reject(new RepointError('CHECKPOINT_FAILED', `remote ${this.name} is offline (no upstream): its checkpoints come from "repoint import"`));
  }

  serveCheckpoint(m: CheckpointManifest, path: string, req: ServeRequest): Promise<Reply> {
    return this.#inner.serveCheckpoint(m, path, req);
  }
}
