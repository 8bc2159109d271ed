/** The series the status page charts, per minute: requests by cache result, then bytes by source. */
export const HISTORY_SERIES = ['hit', 'miss', 'stale', 'pass', 'error', 'bytesCache', 'bytesUpstream'] as const;
const WIDTH = HISTORY_SERIES.length;

/**
 * The last `minutes` minutes in a fixed ring of per-minute buckets (typed arrays: recording allocates
 * nothing). A bucket is cleared when its minute comes round again.
 */
export class History {
  readonly minutes: number;
  readonly #values: Float64Array;
  readonly #minuteOf: Float64Array;

  constructor(minutes = 60) {
    this.minutes = minutes;
    this.#values = new Float64Array(minutes * WIDTH);
    this.#minuteOf = new Float64Array(minutes).fill(-1);
  }

  add(series: number, amount: number, nowMs: number): void {
    const minute = Math.floor(nowMs / 60_000);
    const slot = minute % this.minutes;
    if (this.#minuteOf[slot] !== minute) {
      this.#minuteOf[slot] = minute;
      this.#values.fill(0, slot * WIDTH, slot * WIDTH + WIDTH);
    }
    this.#values[slot * WIDTH + series]! += amount;
  }

  /** Oldest first, ending with the current minute; minutes with nothing recorded are zeros. */
  snapshot(nowMs: number): { startMs: number; series: Record<(typeof HISTORY_SERIES)[number], number[]> } {
    const now = Math.floor(nowMs / 60_000);
    const out = Object.fromEntries(HISTORY_SERIES.map((s) => [s, [] as number[]])) as Record<(typeof HISTORY_SERIES)[number], number[]>;
    for (let m = now - this.minutes + 1; m <= now; m++) {
      const slot = ((m % this.minutes) + this.minutes) % this.minutes;
      const live = this.#minuteOf[slot] === m;
      HISTORY_SERIES.forEach((s, i) => out[s].push(live ? this.#values[slot * WIDTH + i]! : 0));
    }
    return { startMs: (now - this.minutes + 1) * 60_000, series: out };
  }
}
