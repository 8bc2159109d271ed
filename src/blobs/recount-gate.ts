/**
 * Keeps a background recount walk and concurrent commits/deletes from counting a blob twice or
 * not at all. The tree is split by the first fan-out level (`<ab>`, 256 parts). The walk takes one
 * part at a time exclusively (waiting for in-flight changes there to finish, holding new ones
 * back); a change therefore happens wholly before the walk reads its part, so the walk sees it,
 * or wholly after, so the caller must count it. leave() says which.
 */
export class RecountGate {
  readonly #passed = new Set<string>();
  readonly #inFlight = new Map<string, number>();
  #walking: string | undefined;
  #walkDone: Promise<void> = Promise.resolve();
  #drained: (() => void) | undefined;
  #finished = false;

  /**
   * Change side. Await before touching files under `part`; call the returned function when done.
   * It returns true when the walk had already passed `part` (count the change yourself).
   */
  async enter(part: string): Promise<() => boolean> {
    while (this.#walking === part) await this.#walkDone;
    this.#inFlight.set(part, (this.#inFlight.get(part) ?? 0) + 1);
    let left = false;
    return () => {
      if (!left) {
        left = true;
        const n = (this.#inFlight.get(part) ?? 1) - 1;
        if (n > 0) this.#inFlight.set(part, n);
        else {
          this.#inFlight.delete(part);
          if (this.#walking === part) this.#drained?.();
        }
      }
      return this.#finished || this.#passed.has(part);
    };
  }

  /** Walk side: runs `read` while nothing under `part` changes. */
  async walk<R>(part: string, read: () => Promise<R>): Promise<R> {
    let release = (): void => {};
    this.#walking = part;
    this.#walkDone = new Promise<void>((r) => (release = r));
    try {
      if (this.#inFlight.has(part)) await new Promise<void>((r) => (this.#drained = r));
      return await read();
    } finally {
      this.#passed.add(part);
      this.#walking = undefined;
      this.#drained = undefined;
      release();
    }
  }

  /** After the walk: every change counts. */
  finish(): void {
    this.#finished = true;
  }
}
