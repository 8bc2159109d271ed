import { setImmediate as immediate } from 'node:timers/promises';

/** Default time one stretch of synchronous parsing may hold the event loop before it yields. */
export const YIELD_BUDGET_MS = 20;

/**
 * Passes chunks through, yielding to the event loop (setImmediate, so timers and I/O run) whenever
 * `budgetMs` of work has gone by since the last yield. Buffered stream data resolves async iteration in
 * microtasks, which never let I/O in: without this, a long parse starves health checks and other remotes.
 */
export async function* yieldingChunks<T>(chunks: AsyncIterable<T>, budgetMs = YIELD_BUDGET_MS): AsyncGenerator<T> {
  let since = performance.now();
  for await (const chunk of chunks) {
    yield chunk;
    if (performance.now() - since >= budgetMs) {
      await immediate();
      since = performance.now();
    }
  }
}
