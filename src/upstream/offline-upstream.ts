import { RepointError } from '../errors.ts';
import type { Upstream, UpstreamResponse } from './upstream.ts';

/** The "upstream" of an offline remote: there is none, so anything not imported is simply not here. */
export class OfflineUpstream implements Upstream {
  readonly bases: readonly string[] = [];
  /** Nothing is fetched through it, so nothing is shared with other remotes' downloads. */
  readonly id: string;
  readonly #remote: string;

  constructor(remote: string) {
    this.#remote = remote;
    this.id = `offline:${remote}`;
  }

  fetch(req: { path: string }): Promise<UpstreamResponse> {
    return Promise.reject(new RepointError('NOT_FOUND', `remote ${this.#remote} is offline (no upstream) and ${req.path} was not imported; import a complete bundle`));
  }
}
