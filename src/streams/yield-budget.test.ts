import { describe, expect, it } from 'vitest';
import { yieldingChunks } from './yield-budget.ts';

/** Chunks that are all available at once: iterating them never leaves the microtask queue. */
async function* ready(n: number): AsyncGenerator<number> {
  for (let i = 0; i < n; i++) yield i;
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a synchronous parse of one chunk */ }
}

describe('finding 2: parsing yields to the event loop', () => {
  it('lets I/O and timers run between chunks once the budget is spent', async () => {
    let ranAt: number | undefined;
    setImmediate(() => { ranAt = seen; });
    let seen = 0;
    for await (const _ of yieldingChunks(ready(10), 5)) {
      busy(6);
      seen++;
    }
    // without yielding, the immediate would only run after all 10 chunks (60 ms of blocked loop)
    expect(ranAt).toBeDefined();
    expect(ranAt).toBeLessThan(10);
  });

  it('passes every chunk through in order', async () => {
    const out: number[] = [];
    for await (const c of yieldingChunks(ready(1000), 1)) out.push(c);
    expect(out).toEqual([...Array(1000).keys()]);
  });
});
