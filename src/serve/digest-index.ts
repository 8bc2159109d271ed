import type { Expected } from '../formats/digests.ts';
import type { Logger } from '../log.ts';
import { ingestComplete, ingestMarker } from '../state/ingest-marker.ts';
import type { StateEntry, StateStore } from '../state/state-store.ts';

/** One package a verified index lists: its remote-relative path, and the record stored for it. */
export interface IndexedPackage {
  path: string;
  key: string;
  value: unknown;
}

/** What a package index format (apt Packages/Sources, yum primary) plugs into the core. */
export interface IndexScheme<Ref> {
  /** State key of the live list (newest first). */
  readonly liveKey: string;
  /** Generations kept per slot (clients may still hold older metadata). */
  readonly perSlot: number;
  /** Identity of an ingestion (an index blob read for one scope). */
  idOf(ref: Ref): string;
  /** Two generations of the same index (same path, same suite or repository). */
  sameSlot(a: Ref, b: Ref): boolean;
  /** The key under which `ref` records `path`, or undefined when `ref` cannot list it. */
  recordKey(ref: Ref, path: string): string | undefined;
  /**
   * False when `ref` certainly cannot list `path` (another architecture, a source index for a .deb):
   * a lookup that misses does not wait for such an ingestion. Absent: any ref that has a recordKey may.
   */
  couldList?(ref: Ref, path: string): boolean;
  /** Marks an ingestion complete. */
  doneKey(ref: Ref): string;
  /** Streams the packages of the verified index blob, a batch at a time (no async hop per package). */
  entries(ref: Ref): AsyncIterable<IndexedPackage[]>;
  /** A stored record as what the package must be; undefined for a record that cannot verify. */
  decode(value: unknown): Expected | undefined;
}

// node:sqlite writes synchronously: 2000 records a batch held the event loop ~100 ms during a 50 MB ingest
const BATCH = 500;
const LIVE_MAX = 4096;

/**
 * Package digests recorded per verified index blob, shared by both repository types: records are
 * immutable like the index they come from, so checkpoints sharing an index share them, and a
 * checkpoint verifies packages against exactly its own indexes. Live lookups read the candidates of
 * all live indexes in one getMany; a lookup that misses while an index that could list the path is
 * being read waits for that path to be read (or for that index to finish), not for other work.
 */
export class DigestIndex<Ref> {
  readonly #scheme: IndexScheme<Ref>;
  readonly #state: StateStore;
  readonly #log: Logger;
  readonly #pending = new Map<string, { ref: Ref | undefined; live: boolean; done: Promise<void> }>();
  /** Live indexes already ingested and listed by this process: index hits skip all bookkeeping. */
  readonly #registered = new Set<string>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #workSeq = 0;
  #liveWrites: Promise<void> = Promise.resolve();

  constructor(scheme: IndexScheme<Ref>, state: StateStore, log: Logger) {
    this.#scheme = scheme;
    this.#state = state;
    this.#log = log;
  }

  /** Indexes live lookups read, newest first. */
  async live(): Promise<Ref[]> {
    return (await this.#state.get<Ref[]>(this.#scheme.liveKey)) ?? [];
  }

  /** What a package path must be according to `refs` (the live indexes by default). */
  async lookup(path: string, refs?: readonly Ref[]): Promise<Expected | undefined> {
    const hit = await this.#lookupOnce(path, refs ?? (await this.live()));
    if (hit || refs) return hit;
    const relevant = [...this.#pending.values()].filter((p) => p.live && (p.ref === undefined || this.#mayList(p.ref, path)));
    if (relevant.length === 0) return undefined;
    await this.#waitFor(path, relevant.map((p) => p.done));
    // A live index still being read is not listed yet, but its records are verified: ask it first (newest).
    const reading = [...this.#pending.values()].flatMap((p) => (p.live && p.ref !== undefined ? [p.ref] : []));
    return this.#lookupOnce(path, [...reading, ...(await this.live())]);
  }

  #mayList(ref: Ref, path: string): boolean {
    return this.#scheme.recordKey(ref, path) !== undefined && (this.#scheme.couldList?.(ref, path) ?? true);
  }

  async #lookupOnce(path: string, refs: readonly Ref[]): Promise<Expected | undefined> {
    const keys: string[] = [];
    for (const ref of refs) {
      const key = this.#scheme.recordKey(ref, path);
      if (key !== undefined) keys.push(key);
    }
    if (keys.length === 0) return undefined;
    for (const value of await this.#state.getMany<unknown>(keys)) {
      const expected = value === undefined ? undefined : this.#scheme.decode(value);
      if (expected) return expected;
    }
    return undefined;
  }

  /** Resolves when `path` has been read by a running ingestion, or when all of `work` has settled. */
  #waitFor(path: string, work: Promise<void>[]): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.#waiters.get(path);
      if (!set) this.#waiters.set(path, (set = new Set()));
      const wake = (): void => {
        set.delete(wake);
        if (set.size === 0 && this.#waiters.get(path) === set) this.#waiters.delete(path);
        resolve();
      };
      set.add(wake);
      void Promise.allSettled(work).then(wake);
    });
  }

  /** Work that will list new indexes (fetching them first): lookups that miss wait for it too. */
  track(work: Promise<void>): void {
    const key = `work:${++this.#workSeq}`;
    this.#pending.set(key, { ref: undefined, live: true, done: work.catch(() => {}).finally(() => this.#pending.delete(key)) });
  }

  /** Reads a verified index once per content and, when live, lists it first for lookups. */
  ingest(ref: Ref, live: boolean): Promise<void> {
    const id = `${live ? 'live' : 'cp'}:${this.#scheme.idOf(ref)}`;
    if (this.#registered.has(id)) return Promise.resolve();
    const running = this.#pending.get(id);
    if (running) return running.done;
    // Tracked until the live list is written too, so lookup() never sees "nothing pending" in between.
    const done = this.#ingestOnce(ref)
      .then(() => (live ? this.#addLive(ref) : undefined))
      .then(() => { this.#registered.add(id); })
      .finally(() => this.#pending.delete(id));
    this.#pending.set(id, { ref, live, done: done.catch(() => {}) });
    return done;
  }

  /** Whether `ref` is listed for live lookups. */
  async isLive(ref: Ref): Promise<boolean> {
    const id = this.#scheme.idOf(ref);
    return (await this.live()).some((r) => this.#scheme.idOf(r) === id);
  }

  async #ingestOnce(ref: Ref): Promise<void> {
    const doneKey = this.#scheme.doneKey(ref);
    if (ingestComplete(await this.#state.get<unknown>(doneKey))) return;
    const started = Date.now();
    await this.#state.set(doneKey, ingestMarker('reading', started)); // gc leaves a young marker's records alone
    let batch: StateEntry[] = [];
    let count = 0;
    for await (const pkgs of this.#scheme.entries(ref)) {
      for (const pkg of pkgs) {
        batch.push({ key: pkg.key, value: pkg.value });
        count++;
        if (this.#waiters.has(pkg.path) || batch.length >= BATCH) {
          await this.#state.setMany(batch);
          batch = [];
          this.#wake(pkg.path);
        }
      }
    }
    if (batch.length) await this.#state.setMany(batch);
    await this.#state.set(doneKey, ingestMarker('done'));
    this.#log.info('indexed packages', { index: this.#scheme.idOf(ref), entries: count, ms: Date.now() - started });
  }

  #wake(path: string): void {
    for (const wake of this.#waiters.get(path) ?? []) wake();
  }

  /**
   * Read-modify-write of one state value: serialised in this process, or concurrent ingestions (apt
   * fetches several indexes at once) would each write back a list without the others.
   */
  #addLive(ref: Ref): Promise<void> {
    const next = this.#liveWrites.then(() => this.#writeLive(ref));
    this.#liveWrites = next.catch(() => {});
    return next;
  }

  async #writeLive(ref: Ref): Promise<void> {
    const list = await this.live();
    const id = this.#scheme.idOf(ref);
    if (list[0] && this.#scheme.idOf(list[0]) === id) return;
    // Newer generations of the same index replace older ones; other indexes are never pushed out.
    let generations = 1;
    const next = [ref, ...list.filter((r) => {
      if (this.#scheme.idOf(r) === id) return false;
      return !this.#scheme.sameSlot(r, ref) || ++generations <= this.#scheme.perSlot;
    })].slice(0, LIVE_MAX);
    await this.#state.set(this.#scheme.liveKey, next);
  }
}
