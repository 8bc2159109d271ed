import { setTimeout as sleep } from 'node:timers/promises';
import type { Expected } from '../formats/digests.ts';
import type { Logger } from '../log.ts';
import { ingestComplete, ingestMarker } from '../state/ingest-marker.ts';
import type { StateEntry, StateStore } from '../state/state-store.ts';
import { ReadingList } from './reading-list.ts';

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
  /** State key of the live indexes any node is reading now (serve/reading-list.ts). */
  readonly readingKey: string;
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
/** How long a lookup waits for an index another node is reading (apt gives up on a request after 30 s). */
const OTHER_NODE_WAIT_MS = 20_000;
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
  readonly #reading: ReadingList<Ref>;
  /** Ids this process announced and has not withdrawn yet: its own reads are waited for locally. */
  readonly #own = new Set<string>();

  constructor(scheme: IndexScheme<Ref>, state: StateStore, log: Logger) {
    this.#scheme = scheme;
    this.#state = state;
    this.#log = log;
    this.#reading = new ReadingList(state, scheme.readingKey, (r) => scheme.idOf(r));
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
    if (relevant.length > 0) {
      await this.#waitFor(path, relevant.map((p) => p.done));
      // A live index still being read is not listed yet, but its records are verified: ask it first (newest).
      const reading = [...this.#pending.values()].flatMap((p) => (p.live && p.ref !== undefined ? [p.ref] : []));
      const found = await this.#lookupOnce(path, [...reading, ...(await this.live())]);
      if (found) return found;
    }
    return this.#waitForOtherNodes(path);
  }

  /**
   * A miss while another node (sharing the state) reads a live index that could list `path`: that node
   * served the index to a client a moment ago, and the client now asks here. Polls that index's records
   * until the path is found, the read ends (withdrawn from the reading list) or OTHER_NODE_WAIT_MS passes.
   */
  async #waitForOtherNodes(path: string): Promise<Expected | undefined> {
    const deadline = Date.now() + OTHER_NODE_WAIT_MS;
    let waited = false;
    for (let delay = 25; ; delay = Math.min(delay * 2, 400)) {
      let refs: Ref[];
      try {
        refs = (await this.#reading.current()).map((e) => e.ref)
          .filter((r) => !this.#own.has(this.#scheme.idOf(r)) && this.#mayList(r, path));
      } catch {
        return undefined; // availability: the state is down, the caller decides what a miss means
      }
      if (refs.length === 0) return waited ? this.#lookupOnce(path, await this.live()) : undefined;
      const hit = await this.#lookupOnce(path, refs);
      if (hit || Date.now() >= deadline) return hit;
      waited = true;
      await sleep(delay);
    }
  }

  /**
   * Lists `ref` as being read, before a client can have it (an index about to be served): a client that
   * moves on to another node finds that node waiting for the records instead of missing them.
   */
  announce(ref: Ref): Promise<void> {
    const id = `live:${this.#scheme.idOf(ref)}`;
    if (this.#registered.has(id) || this.#pending.has(id)) return Promise.resolve();
    this.#own.add(this.#scheme.idOf(ref));
    return this.#serialized(() => this.#reading.add(ref))
      .catch((err: Error) => this.#log.warn('announcing an index read failed', { index: this.#scheme.idOf(ref), reason: err.message }));
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
    let values: unknown[];
    try {
      values = await this.#state.getMany<unknown>(keys);
    } catch (err) {
      return this.#lookupEach(keys, err);
    }
    for (const value of values) {
      const expected = value === undefined ? undefined : this.#scheme.decode(value);
      if (expected) return expected;
    }
    return undefined;
  }

  /**
   * The state is down and some key was never read here (an index listed after this path was last
   * looked up): the in-process cache still answers the keys it holds (state.staleWindow), so ask key by
   * key, newest index first. Fails as before only when no key can be answered.
   */
  async #lookupEach(keys: readonly string[], first: unknown): Promise<Expected | undefined> {
    let answered = false;
    for (const key of keys) {
      let value: unknown;
      try {
        value = await this.#state.get<unknown>(key);
      } catch {
        continue;
      }
      answered = true;
      const expected = value === undefined ? undefined : this.#scheme.decode(value);
      if (expected) return expected;
    }
    if (!answered) throw first;
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
    const read = live ? this.announce(ref).then(() => this.#ingestOnce(ref)) : this.#ingestOnce(ref);
    const done = read
      .then(() => (live ? this.#addLive(ref) : undefined))
      .then(() => { this.#registered.add(id); })
      .finally(() => {
        this.#pending.delete(id);
        if (live) void this.withdraw(ref);
      });
    this.#pending.set(id, { ref, live, done: done.catch(() => {}) });
    return done;
  }

  /** Withdraws an announcement whose index will not be read (its download failed). */
  withdraw(ref: Ref): Promise<void> {
    const id = this.#scheme.idOf(ref);
    // entries also expire (READING_MAX_AGE_MS), so a failed write only costs other nodes a wait
    return this.#serialized(() => this.#reading.remove(ref)).catch(() => {}).finally(() => this.#own.delete(id));
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
    return this.#serialized(() => this.#writeLive(ref));
  }

  #serialized(write: () => Promise<void>): Promise<void> {
    const next = this.#liveWrites.then(write);
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
