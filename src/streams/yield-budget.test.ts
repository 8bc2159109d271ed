import { describe, expect, it } from 'vitest';
import { yieldingChunks } from './yield-budget.ts';

/** Chunks that are all available at once: iterating them never leaves the microtask queue. */
async function* ready(n: number, size = 16): AsyncGenerator<Buffer> {
  for (let i = 0; i < n; i++) yield Buffer.alloc(size, i);
}

function busy(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* a synchronous parse of one chunk */ }
}

describe('finding 2: parsing yields to the event loop', () => {
  it('lets I/O and timers run between chunks once the budget is spent', async () => {
    let ranAt: number | undefined;
    let seen = 0;
    setImmediate(() => { ranAt = seen; });
    for await (const _ of yieldingChunks(ready(10), 5)) {
      busy(6);
      seen++;
    }
    // without yielding, the immediate would only run after all 10 chunks (60 ms of blocked loop)
    expect(ranAt).toBeDefined();
    expect(ranAt).toBeLessThan(10);
  });

  it('hands a large chunk over in pieces, so the budget is checked inside it too', async () => {
    const pieces: number[] = [];
    let ranAt: number | undefined;
    setImmediate(() => { ranAt = pieces.length; });
    for await (const p of yieldingChunks(ready(1, 10 * 1024), 5, 1024)) {
      pieces.push(p.length);
      busy(6);
    }
    expect(pieces).toEqual(Array(10).fill(1024));
    expect(ranAt).toBeLessThan(10);
  });

  it('passes every byte through in order', async () => {
    const out: number[] = [];
    for await (const c of yieldingChunks(ready(300, 100), 1, 64)) out.push(...c);
    expect(out).toEqual(Array.from({ length: 300 }, (_, i) => Array(100).fill(i % 256)).flat());
  });
});
