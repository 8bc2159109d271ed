import { pipeline } from 'node:stream';
import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError } from '../errors.ts';
import type { Upstream, UpstreamRequest, UpstreamResponse } from '../upstream/upstream.ts';
import type { Compression } from '../formats/compression.ts';
import { decoderStages } from '../streams/decompress.ts';

/**
 * An "upstream" that is a stored compressed blob, decompressed on the fly: a checkpoint lists the
 * uncompressed index (apt needs it listed) and serves it on demand through the same verified fill
 * as anything else, without storing it up front.
 */
export class DerivedUpstream implements Upstream {
  readonly bases: readonly string[] = [];
  readonly id: string;
  #blobs: BlobStore;
  #from: string;
  #compression: Compression;

  constructor(blobs: BlobStore, fromSha256: string, compression: Compression) {
    this.#blobs = blobs;
    this.#from = fromSha256;
    this.#compression = compression;
    this.id = `blob:${fromSha256}:${compression}`;
  }

  async fetch(req: UpstreamRequest): Promise<UpstreamResponse> {
    if (req.headers?.range) throw new RepointError('UPSTREAM_BAD_STATUS', 'a derived file cannot be resumed');
    if (!(await this.#blobs.stat(this.#from))) throw new RepointError('UPSTREAM_NOT_FOUND', `source blob ${this.#from} for ${req.path} is missing`);
    // decoderStages: memory stays flat whatever the blob expands to; the fill stops at the listed size
    const stages = decoderStages(this.#compression);
    const body = stages.at(-1)!;
    pipeline([this.#blobs.open(this.#from), ...stages], () => {});
    return { status: 200, headers: {}, body, url: `blob:${this.#from}` };
  }
}
