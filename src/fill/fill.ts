import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { BlobInfo, BlobStore, BlobWriter, WrittenBytesReader } from '../blobs/blob-store.ts';
import { storageError } from '../blobs/storage-error.ts';
import { RepointError, isRepointError } from '../errors.ts';
import type { Logger } from '../log.ts';
import { toUpstreamError } from '../upstream/http-upstream.ts';
import { discard, type Upstream, type UpstreamResponse } from '../upstream/upstream.ts';
import { MultiHasher, sha256Of, type Expected } from '../formats/digests.ts';
import { DEFAULT_LIMITS } from '../formats/limits.ts';
import { fillKey } from './fill-key.ts';
import { TailReader } from './tail-reader.ts';

export interface FillSpec {
  /** Single-flight key: concurrent requests with the same key share this download. */
  key: string;
  upstream: Upstream;
  /** Upstream paths tried in order; a 404 moves on (by-hash first, then the plain name). */
  sources: readonly string[];
  expected: Expected;
  /** Refuse anything larger (limits.maxFileSize): the stop when metadata gives no size, and a ceiling when it does. */
  maxSize?: number;
  /** Asked once the download has started: false when another node stores this blob (cluster follower). */
  uploadAlongside?: () => boolean;
}

/** The spec for a verified download, keyed by fillKey: the same content from the same upstream is fetched once. */
export function fillSpec(remote: string, upstream: Upstream, path: string, expected: Expected, sources: readonly string[] = [path]): FillSpec {
  return { key: fillKey(upstream.id, expected, { remote, path }), upstream, sources, expected };
}

export type FillState = 'starting' | 'streaming' | 'committed' | 'failed';

const RESUME_ATTEMPTS = 3;
/** Recent bytes kept in memory so followers that keep up never touch the disk (bounded per fill). */
const WINDOW_BYTES = 2 * 2 ** 20;
const DEFAULT_MAX_SIZE = DEFAULT_LIMITS.maxFileSize;

/**
 * One upstream download, written to a blob writer and hashed while it streams. Readers tail what
 * the writer has written; the final byte is held back until the digest is verified, so no client ever
 * completes a body that failed verification (they get a reset instead).
 */
export class Fill extends EventEmitter {
  readonly key: string;
  state: FillState = 'starting';
  size: number | undefined;
  lastModified: Date | undefined;
  written = 0;
  error: RepointError | undefined;
  blob: BlobInfo | undefined;
  readonly ready: Promise<void>;
  readonly done: Promise<BlobInfo>;
  #spec: FillSpec;
  #blobs: BlobStore;
  #log: Logger;
  #writer: BlobWriter | undefined;
  #hasher: MultiHasher;
  #window: Array<{ start: number; data: Buffer }> = [];
  #windowBytes = 0;
  /** Aborts the upstream request and body (shutdown): the fill fails with the reason given. */
  readonly #abort = new AbortController();
  #body: Readable | undefined;

  constructor(spec: FillSpec, blobs: BlobStore, log: Logger) {
    super();
    this.setMaxListeners(0);
    this.key = spec.key;
    this.#spec = spec;
    this.#blobs = blobs;
    this.#log = log;
    this.size = spec.expected.size;
    this.#hasher = new MultiHasher(spec.expected.digests.filter((d) => d.algo !== 'sha256').map((d) => d.algo));
    const ready = Promise.withResolvers<void>();
    this.ready = ready.promise;
    this.ready.catch(() => {});
    this.once('streaming', ready.resolve);
    this.once('failed', ready.reject);
    this.done = this.#run();
    this.done.catch(() => {});
  }

  /** Known before the download when metadata lists a sha256; the ETag of the response. */
  get expectedSha256(): string | undefined {
    return this.blob?.sha256 ?? sha256Of(this.#spec.expected);
  }

  /** Positional reads of the bytes written so far (and of the blob once committed); after ready. */
  async openWritten(): Promise<WrittenBytesReader> {
    if (this.state === 'failed' || !this.#writer) throw this.error ?? new RepointError('INTERNAL', 'fill has not started writing');
    try {
      return await this.#writer.openReader();
    } catch (err) {
      throw this.error ?? err; // set when the fill failed: the reason, not "writer closed"
    }
  }

  /** Bytes a reader may consume now: all of them once verified, else all but the last. */
  readableLimit(): number {
    return this.state === 'committed' ? this.written : Math.max(0, this.written - 1);
  }

  /** Bytes [pos, pos+max) from the in-memory window, when they are still there. */
  fromWindow(pos: number, max: number): Buffer | undefined {
    const first = this.#window[0];
    if (!first || pos < first.start) return undefined;
    for (const c of this.#window) {
      if (pos < c.start + c.data.length) {
        const off = pos - c.start;
        return c.data.subarray(off, Math.min(c.data.length, off + max));
      }
    }
    return undefined;
  }

  reader(start = 0, endInclusive?: number): Readable {
    return new TailReader(this, start, endInclusive);
  }

  /** Stops the download (shutdown): readers error, nothing is committed. No-op once it has ended. */
  abort(reason: RepointError): void {
    if (this.state === 'committed' || this.state === 'failed' || this.#abort.signal.aborted) return;
    this.#abort.abort(reason);
    this.#body?.destroy(reason);
  }

  async #run(): Promise<BlobInfo> {
    try {
      const max = this.#spec.maxSize ?? DEFAULT_MAX_SIZE;
      if (this.size !== undefined && this.size > max) throw tooLarge(`metadata lists ${this.#spec.sources[0] ?? this.key} at ${this.size} bytes`, max);
      // The content address known up front lets an object store upload alongside the download; not
      // when another node uploads the same blob (a cluster follower, known once #open has elected).
      const sha256 = this.expectedSha256;
      const writer = (alongside: boolean): Promise<BlobWriter> => this.#blobs.createWriter(alongside && sha256 ? { expectSha256: sha256 } : {});
      const decide = this.#spec.uploadAlongside;
      if (!decide) this.#writer = await writer(true);
      const res = await this.#open(0);
      if (decide) {
        try {
          this.#writer = await writer(decide());
        } catch (err) {
          discard(res.body);
          throw err;
        }
      }
      await this.#stream(res);
      return await this.#commit();
    } catch (err) {
      const e = isRepointError(err) ? err : new RepointError('INTERNAL', (err as Error).message, {}, { cause: err });
      this.error = e;
      this.state = 'failed';
      await this.#writer?.abort().catch(() => {});
      this.#log.warn('fill failed', { key: this.key, code: e.code, reason: e.message });
      this.#spec.upstream.rejected?.(e.code);
      this.emit('failed', e);
      throw e;
    }
  }

  /** Opens the first source that exists; from > 0 resumes with a Range request. */
  async #open(from: number, validator?: string): Promise<UpstreamResponse> {
    let last: UpstreamResponse | undefined;
    for (const path of this.#spec.sources) {
      const headers: Record<string, string> = from > 0 ? { range: `bytes=${from}-`, ...(validator ? { 'if-range': validator } : {}) } : {};
      const res = await this.#spec.upstream.fetch({ path, headers, signal: this.#abort.signal, verified: true });
      this.#abort.signal.throwIfAborted();
      this.#body = res.body;
      if (res.status === 200 || res.status === 206) return res;
      last = res;
    }
    throw new RepointError(last?.status === 404 || last?.status === 410 ? 'UPSTREAM_NOT_FOUND' : 'UPSTREAM_BAD_STATUS',
      `upstream has no ${this.#spec.sources.join(' or ')} (status ${last?.status ?? 'none'})`, { status: last?.status });
  }

  async #stream(first: UpstreamResponse): Promise<void> {
    let res = first;
    const validator = res.headers.etag ?? res.headers['last-modified'];
    const lm = res.headers['last-modified'];
    if (lm && !Number.isNaN(Date.parse(lm))) this.lastModified = new Date(lm);
    const length = res.headers['content-length'] === undefined ? undefined : Number(res.headers['content-length']);
    if (this.size !== undefined && length !== undefined && length !== this.size) {
      discard(res.body);
      throw new RepointError('UPSTREAM_SIZE_MISMATCH', `upstream sent ${length} bytes for ${res.url}, metadata says ${this.size}`, { url: res.url });
    }
    const max = this.#spec.maxSize ?? DEFAULT_MAX_SIZE;
    if (this.size === undefined && length !== undefined && length > max) {
      discard(res.body);
      throw tooLarge(`upstream announces ${length} bytes for ${res.url}`, max);
    }
    this.size ??= length;
    let skip = 0; // set when a 200 answered a resume; outside the loop, which `continue`s with it
    for (let attempt = 0; ; attempt++) {
      try {
        for await (const chunk of res.body as AsyncIterable<Buffer>) {
          let data: Buffer = chunk;
          if (skip > 0) { // a 200 answered our resume: drop what we already have
            const n = Math.min(skip, data.length);
            skip -= n;
            data = data.subarray(n);
            if (data.length === 0) continue;
          }
          await this.#append(data, res.url);
        }
      } catch (err) {
        this.#abort.signal.throwIfAborted();
        // A local write failure (a full disk) is not upstream's: resuming would fetch the same bytes again.
        if (err instanceof LocalWriteError) throw err.cause;
        if (isRepointError(err) && err.code !== 'UPSTREAM_TIMEOUT' && err.code !== 'UPSTREAM_UNAVAILABLE') throw err;
        const e = toUpstreamError(err, res.url);
        if (attempt >= RESUME_ATTEMPTS) throw new RepointError('UPSTREAM_TRUNCATED', `download of ${res.url} broke off at ${this.written} bytes: ${e.message}`, { url: res.url });
        this.#log.warn('upstream body broke off, resuming', { key: this.key, at: this.written, reason: e.message });
        res = await this.#open(this.written, validator);
        skip = res.status === 200 ? this.written : 0;
        continue;
      }
      if (this.size === undefined || this.written === this.size) return this.#streaming();
      if (attempt >= RESUME_ATTEMPTS) break;
      res = await this.#open(this.written, validator);
      skip = res.status === 200 ? this.written : 0;
    }
    throw new RepointError('UPSTREAM_TRUNCATED', `upstream ended after ${this.written} of ${this.size} bytes`, { key: this.key });
  }

  async #append(data: Buffer, url: string): Promise<void> {
    const limit = this.size ?? this.#spec.maxSize ?? DEFAULT_MAX_SIZE;
    if (this.written + data.length > limit) {
      throw new RepointError(this.size !== undefined ? 'UPSTREAM_SIZE_MISMATCH' : 'UPSTREAM_TOO_LARGE', `upstream sent more than ${limit} bytes for ${url}`, { url });
    }
    try {
      await this.#writer!.write(data);
    } catch (err) {
      throw new LocalWriteError(err);
    }
    this.#hasher.update(data);
    this.#streaming();
    this.#window.push({ start: this.written, data });
    this.#windowBytes += data.length;
    while (this.#windowBytes > WINDOW_BYTES && this.#window.length > 1) this.#windowBytes -= this.#window.shift()!.data.length;
    this.written += data.length;
    this.emit('progress');
  }

  /**
   * Clients are answered once the first byte is stored (or the whole, empty, body has arrived): a disk
   * that cannot take a single byte is a clean 507, not a 200 cut off by a reset.
   */
  #streaming(): void {
    if (this.state !== 'starting') return;
    this.state = 'streaming';
    this.emit('streaming');
  }

  async #commit(): Promise<BlobInfo> {
    const bad = this.#hasher.mismatch(this.#spec.expected.digests);
    if (bad) {
      throw new RepointError('UPSTREAM_DIGEST_MISMATCH', `${bad.digest.algo} mismatch for ${this.key}: expected ${bad.digest.hex}, got ${bad.actual}`, { key: this.key });
    }
    const sha256 = this.#spec.expected.digests.find((d) => d.algo === 'sha256')?.hex;
    this.blob = await this.#writer!.commit({
      ...(sha256 ? { expectSha256: sha256.toLowerCase() } : {}),
      ...(this.lastModified ? { mtime: this.lastModified } : {}),
    });
    this.state = 'committed';
    this.#window = []; // readers that are behind continue from the committed blob
    this.#windowBytes = 0;
    this.emit('progress');
    return this.blob;
  }
}

/** Marks an error of the local writer, so the resume logic never takes it for a broken upstream body. */
class LocalWriteError extends Error {
  override readonly cause: RepointError;

  constructor(err: unknown) {
    const mapped = storageError(err, 'writing a download'); // any BlobWriter's errno, not only the fs store's
    const cause = isRepointError(mapped) ? mapped : new RepointError('STORAGE_FAILED', `local write failed: ${(err as Error).message}`, {}, { cause: err });
    super(cause.message);
    this.cause = cause;
  }
}

function tooLarge(what: string, max: number): RepointError {
  return new RepointError('UPSTREAM_TOO_LARGE', `${what}, more than limits.maxFileSize (${max})`, { max });
}
