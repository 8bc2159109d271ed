import { describe, expect, it } from 'vitest';
import { SingleFlight } from './single-flight.ts';

describe('SingleFlight', () => {
  it('runs one call per key at a time and shares its result', async () => {
    const sf = new SingleFlight<number>();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const fn = async (): Promise<number> => { calls++; await gate; return calls; };
    const a = sf.run('k', fn);
    const b = sf.run('k', fn);
    const c = sf.run('other', async () => 99);
    release();
    expect(await Promise.all([a, b, c])).toEqual([1, 1, 99]);
    expect(calls).toBe(1);
    expect(await sf.run('k', fn)).toBe(2); // settled: the next call runs again
  });

  it('forgets a failed call so the next one retries', async () => {
    const sf = new SingleFlight<string>();
    await expect(sf.run('k', async () => { throw new Error('down'); })).rejects.toThrow('down');
    expect(await sf.run('k', async () => 'up')).toBe('up');
  });
});
