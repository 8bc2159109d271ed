import { setImmediate as immediate } from 'node:timers/promises';

/** Default time one stretch of synchronous parsing may hold the event loop before it yields. */
export const YIELD_BUDGET_MS = 20;
/** Largest piece handed to a parser at once: the budget is checked between pieces. */
export const MAX_PIECE_BYTES = 64 * 1024;

/**
 * Passes chunks through in pieces of at most `maxPiece` bytes, yielding to the event loop
 * (setImmediate, so timers and I/O run) whenever `budgetMs` of work has gone by since the last yield.
 * Buffered stream data resolves async iteration in microtasks, which never let I/O in, and a Readable
 * hands over everything it has buffered at once (an xz decoder pushes MiBs past its highWaterMark):
 * without this, parsing a bomb of tiny stanzas held the loop for seconds.
 */
export async function* yieldingChunks<T extends Uint8Array | string>(chunks: AsyncIterable<T>, budgetMs = YIELD_BUDGET_MS, maxPiece = MAX_PIECE_BYTES): AsyncGenerator<T> {
  let since = performance.now();
  for await (const chunk of chunks) {
    const pieces = typeof chunk === 'string' || chunk.length <= maxPiece ? 1 : Math.ceil(chunk.length / maxPiece);
    for (let i = 0; i < pieces; i++) {
      yield (pieces === 1 ? chunk : (chunk as Uint8Array).subarray(i * maxPiece, (i + 1) * maxPiece)) as T;
      if (performance.now() - since >= budgetMs) {
        await immediate();
        since = performance.now();
      }
    }
  }
}
