/** Runs fn over items with at most `n` in flight; the first failure stops new work and rejects. */
export async function forEachLimit<T>(items: Iterable<T> | AsyncIterable<T>, n: number, fn: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  let failure: unknown;
  for await (const item of items) {
    if (failure !== undefined) break;
    const p: Promise<void> = fn(item).catch((err: unknown) => { failure ??= err; }).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= n) await Promise.race(running);
  }
  await Promise.all(running);
  if (failure !== undefined) throw failure;
}

/**
 * Runs fn over items `n` at a time, each window awaited whole: for work that mostly completes at
 * once (a cached answer, a synchronous file call), where forEachLimit's race per item would cost
 * more than the work. Rejects with the first failure once its window settled.
 */
export async function forEachWindow<T>(items: readonly T[], n: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  for (let at = 0; at < items.length; at += n) {
    const settled = await Promise.allSettled(items.slice(at, at + n).map((item, k) => fn(item, at + k)));
    const failed = settled.find((s) => s.status === 'rejected');
    if (failed) throw failed.reason;
  }
}
