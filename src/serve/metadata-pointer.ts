import type { BlobStore } from '../blobs/blob-store.ts';
import { RepointError, isRepointError } from '../errors.ts';
import { SingleFlight } from '../fill/single-flight.ts';
import type { Logger } from '../log.ts';
import type { StateStore } from '../state/state-store.ts';
import { readCapped } from '../streams/read-capped.ts';
import { toUpstreamError } from '../upstream/http-upstream.ts';
import { discard, type Upstream, type UpstreamResponse } from '../upstream/upstream.ts';

/** The fields every verified-metadata pointer has; a type adds the blobs it names and its marks. */
export interface PointerRecord {
  fetchedAt: number;
  lastModified?: string;
  etag?: string;
  /** Earlier generations (see PointerType.generationOf), newest first. */
  history: string[];
}

export type TypeFields<R extends PointerRecord> = Omit<R, keyof PointerRecord>;

export interface PointerView<R> {
  record: R;
  /** Why the record was not refreshed although due (upstream down, a refused update). */
  stale?: string;
}

/** What one kind of signed metadata (InRelease, repomd.xml, ...) plugs into the core. */
export interface PointerType<R extends PointerRecord, S> {
  /** State key and upstream path of a slot (a suite directory, a repository directory ...). */
  key(slot: S): string;
  path(slot: S): string;
  /** Largest body accepted (these files are parsed whole). */
  readonly maxBytes: number;
  /** Every blob the record names: it is served, and revalidated conditionally, only while all are stored. */
  blobsOf(rec: R): string[];
  /** The id of a generation in `history` (the blob later requests are verified against). */
  generationOf(rec: TypeFields<R>): string;
  /**
   * Verifies a fetched body (signature, policy against `prev`: expiry, rollback), stores its blobs and
   * returns the type's record fields. Throws a RepointError to refuse it. Whatever it fetches itself
   * (a detached signature) must pass `signal` on: it aborts at the revalidation's deadline.
   */
  accept(slot: S, raw: Buffer, res: UpstreamResponse, prev: R | undefined, signal: AbortSignal): Promise<TypeFields<R>>;
  /** False for a stored record that may no longer be served (yum: a keyring was added since). */
  usable?(rec: R): boolean;
}

export interface MetadataPointerDeps {
  state: StateStore;
  blobs: BlobStore;
  upstream: Upstream;
  log: Logger;
  /** How long a verified record is served before it is revalidated. */
  ttlMs: number;
  /** Total time one revalidation may take, signature fetch and storing included (default 30 s). */
  deadlineMs?: number;
  /** Earlier generations kept for clients that still hold one. */
  historyLength?: number;
  /** Every body is checked against a keyring: fetches may follow redirects to the remote's redirectHosts. */
  signed?: boolean;
}

/**
 * The verified pointer both repository types share: "which verified metadata blobs to serve for this
 * slot", revalidated after a TTL with conditional requests (single flight per slot), served stale when
 * revalidation fails in any way (connect, status, a body that breaks off, the total deadline, a local
 * store or state failure, a refused file), never rolled back, with a short history, and repaired by a
 * forced refresh when the blobs it names have gone (gc, `repoint verify`).
 */
export class MetadataPointer<R extends PointerRecord, S> {
  readonly #type: PointerType<R, S>;
  readonly #deps: MetadataPointerDeps;
  readonly #inflight = new SingleFlight<PointerView<R>>();
  readonly #listeners: Array<(slot: S, record: R) => void> = [];
  /** Slots served or refreshed by this process, for freshness figures (bounded by the repository's suites). */
  readonly #seen = new Map<string, S>();

  constructor(type: PointerType<R, S>, deps: MetadataPointerDeps) {
    this.#type = type;
    this.#deps = deps;
  }

  /** Called (without waiting) after a changed file has been verified and recorded. */
  onChange(listener: (slot: S, record: R) => void): void {
    this.#listeners.push(listener);
  }

  async record(slot: S): Promise<R | undefined> {
    const rec = await this.#deps.state.get<R>(this.#type.key(slot));
    return rec && (this.#type.usable?.(rec) ?? true) ? rec : undefined;
  }

  /** The record, revalidated upstream when older than the TTL (or when forced). */
  async fresh(slot: S, opts: { force?: boolean } = {}): Promise<PointerView<R>> {
    const rec = await this.record(slot);
    if (rec) this.#seen.set(this.#type.key(slot), slot);
    if (rec && !opts.force && Date.now() - rec.fetchedAt < this.#deps.ttlMs) return { record: rec };
    return this.#inflight.run(this.#type.key(slot), () => this.#refresh(slot, rec));
  }

  /**
   * A record whose blobs are all stored, for serving: the fresh one (or, with `revalidate: false`, the
   * one held now, so a signature file stays paired with the file a client just got). When its blobs
   * are gone it is fetched and verified again.
   */
  async serveable(slot: S, opts: { revalidate: boolean } = { revalidate: true }): Promise<PointerView<R>> {
    const held = opts.revalidate ? undefined : await this.record(slot);
    const view = held ? { record: held } : await this.fresh(slot);
    if (await this.#intact(view.record)) return view;
    this.#deps.log.warn('verified metadata blobs are gone; fetching them again', { path: this.#type.path(slot) });
    const again = await this.fresh(slot, { force: true });
    if (await this.#intact(again.record)) return again;
    throw new RepointError(again.stale ? 'UPSTREAM_UNAVAILABLE' : 'NOT_FOUND',
      `no verified ${this.#type.path(slot)} is stored${again.stale ? ` and upstream could not provide it (${again.stale})` : ''}`);
  }

  /** The records of the slots this process has served, for freshness figures. */
  async seen(): Promise<Array<{ slot: S; record: R }>> {
    const out: Array<{ slot: S; record: R }> = [];
    for (const slot of this.#seen.values()) {
      const record = await this.record(slot);
      if (record) out.push({ slot, record });
    }
    return out;
  }

  async #intact(rec: R): Promise<boolean> {
    for (const sha of this.#type.blobsOf(rec)) if (!(await this.#deps.blobs.stat(sha))) return false;
    return true;
  }

  /**
   * One revalidation under a total deadline. Any failure with a record in hand serves that record,
   * marked stale with the failure's code; without one the failure is the answer.
   */
  async #refresh(slot: S, rec: R | undefined): Promise<PointerView<R>> {
    const path = this.#type.path(slot);
    const ms = this.#deps.deadlineMs ?? DEFAULT_DEADLINE_MS;
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new RepointError('UPSTREAM_DEADLINE', `revalidating ${path} took longer than ${ms} ms (upstream.metadataDeadline)`)), ms);
    try {
      // The race answers at the deadline even if some step ignores the signal; that step's result is then dropped.
      return await untilAborted(this.#revalidate(slot, rec, path, deadline.signal), deadline.signal);
    } catch (err) {
      const e = isRepointError(err) ? err : new RepointError('INTERNAL', (err as Error).message, {}, { cause: err });
      if (/^(SIGNATURE|METADATA)_/.test(e.code)) {
        this.#deps.log.error('refused upstream metadata', { path, code: e.code, reason: e.message });
        this.#deps.upstream.rejected?.(e.code);
      }
      if (!rec) throw e;
      this.#deps.log.warn('serving last verified metadata', { path, code: e.code, reason: e.message });
      return { record: rec, stale: e.code };
    } finally {
      clearTimeout(timer);
    }
  }

  async #revalidate(slot: S, rec: R | undefined, path: string, signal: AbortSignal): Promise<PointerView<R>> {
    // Conditional only when what the record names is still stored: a 304 must not keep a hole.
    const intact = rec !== undefined && (await this.#intact(rec));
    const headers: Record<string, string> = {};
    if (intact && rec.lastModified) headers['if-modified-since'] = rec.lastModified;
    if (intact && rec.etag) headers['if-none-match'] = rec.etag;
    const res = await this.#deps.upstream.fetch({ path, headers, signal, verified: this.#deps.signed === true });
    if (res.status === 304 && rec) {
      discard(res.body);
      const next: R = { ...rec, fetchedAt: Date.now() };
      signal.throwIfAborted();
      await this.#deps.state.set(this.#type.key(slot), next);
      return { record: next };
    }
    if (res.status !== 200) {
      discard(res.body);
      throw new RepointError('UPSTREAM_NOT_FOUND', `upstream has no ${path} (status ${res.status})`, { status: res.status });
    }
    const raw = await readBody(res, this.#type.maxBytes, path, signal);
    const fields = await this.#type.accept(slot, raw, res, rec, signal);
    const next = this.#nextRecord(fields, res, rec);
    signal.throwIfAborted(); // past the deadline the last verified copy was served: do not move the pointer now
    await this.#deps.state.set(this.#type.key(slot), next);
    this.#seen.set(this.#type.key(slot), slot);
    if (!rec || this.#type.generationOf(rec) !== this.#type.generationOf(fields)) {
      this.#deps.log.info('verified new metadata', { path });
      for (const l of this.#listeners) l(slot, next);
    }
    return { record: next };
  }

  #nextRecord(fields: TypeFields<R>, res: UpstreamResponse, prev: R | undefined): R {
    const gen = this.#type.generationOf(fields);
    const prevGen = prev ? this.#type.generationOf(prev) : undefined;
    const history = prev && prevGen !== undefined && prevGen !== gen ? [prevGen, ...prev.history].slice(0, this.#deps.historyLength ?? 4) : (prev?.history ?? []);
    const common: PointerRecord = {
      fetchedAt: Date.now(), history,
      ...(res.headers['last-modified'] ? { lastModified: res.headers['last-modified'] } : {}),
      ...(res.headers.etag ? { etag: res.headers.etag } : {}),
    };
    // The type fields and the common ones partition R: this is the only place they are put together.
    return { ...fields, ...common } as R;
  }
}

const DEFAULT_DEADLINE_MS = 30_000;

/** The whole (capped) body; a body that breaks off is UPSTREAM_TRUNCATED, a stall UPSTREAM_TIMEOUT. */
async function readBody(res: UpstreamResponse, max: number, path: string, signal: AbortSignal): Promise<Buffer> {
  // Refused before reading a byte when upstream announces more (limits.metadataMaxBytes).
  if (Number(res.headers['content-length'] ?? 0) > max) {
    discard(res.body);
    throw new RepointError('METADATA_TOO_LARGE', `${path} is ${res.headers['content-length']} bytes, more than limits.metadataMaxBytes (${max})`, { max });
  }
  try {
    return await readCapped(res.body, max, `${path} (limits.metadataMaxBytes)`, 'METADATA_TOO_LARGE');
  } catch (err) {
    signal.throwIfAborted();
    if (isRepointError(err)) throw err;
    const e = toUpstreamError(err, res.url);
    if (e.code === 'UPSTREAM_TIMEOUT') throw e;
    throw new RepointError('UPSTREAM_TRUNCATED', `upstream body of ${path} broke off: ${(err as Error).message}`, { url: res.url }, { cause: err });
  }
}

/** `work`, or the signal's reason as soon as it aborts. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Upstream's Last-Modified as a Date, for blob mtimes. */
export function lastModifiedOf(res: UpstreamResponse): Date | undefined {
  const lm = res.headers['last-modified'];
  return lm && !Number.isNaN(Date.parse(lm)) ? new Date(lm) : undefined;
}
