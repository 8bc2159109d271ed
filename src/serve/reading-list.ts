import type { StateStore } from '../state/state-store.ts';

/** One live index a node announced it is reading, and when (entries expire: a node may die mid-read). */
export interface ReadingEntry<Ref> {
  ref: Ref;
  at: number;
}

/** An announcement older than this is ignored: the node reading it died, or the read is hopeless. */
export const READING_MAX_AGE_MS = 120_000;

/**
 * The shared list of live indexes being read now, by any node. A node announces an index before a client
 * can have it (so a client moving to another node finds it listed), and withdraws it once the index is
 * listed live or its read failed. Lost updates under concurrent writers only cost a missed wait.
 */
export class ReadingList<Ref> {
  readonly #state: StateStore;
  readonly #key: string;
  readonly #idOf: (ref: Ref) => string;

  constructor(state: StateStore, key: string, idOf: (ref: Ref) => string) {
    this.#state = state;
    this.#key = key;
    this.#idOf = idOf;
  }

  /** The announcements younger than READING_MAX_AGE_MS. */
  async current(now = Date.now()): Promise<Array<ReadingEntry<Ref>>> {
    const list = (await this.#state.get<Array<ReadingEntry<Ref>>>(this.#key)) ?? [];
    return list.filter((e) => now - e.at < READING_MAX_AGE_MS);
  }

  async add(ref: Ref): Promise<void> {
    const id = this.#idOf(ref);
    const now = Date.now();
    const rest = (await this.current(now)).filter((e) => this.#idOf(e.ref) !== id);
    await this.#state.set(this.#key, [...rest, { ref, at: now }]);
  }

  async remove(ref: Ref): Promise<void> {
    const id = this.#idOf(ref);
    const list = await this.current();
    const rest = list.filter((e) => this.#idOf(e.ref) !== id);
    if (rest.length !== list.length) await this.#state.set(this.#key, rest);
  }
}
