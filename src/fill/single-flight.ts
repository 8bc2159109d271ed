/** Coalesces concurrent calls per key: while one runs, callers with the same key share its promise. */
export class SingleFlight<T> {
  #running = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    let p = this.#running.get(key);
    if (!p) {
      p = fn().finally(() => this.#running.delete(key));
      this.#running.set(key, p);
    }
    return p;
  }
}
